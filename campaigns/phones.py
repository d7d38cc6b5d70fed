"""Mottagarnas nummer i kampanjer: nyckelhash, kryptering till sändning, maskerad form.

Enligt dataskyddskartan sparas numret krypterat bara tills SMS:et är skickat, därefter
bara en nyckelhash (HMAC-SHA256 med PHONE_HASH_KEY, som inte ligger i databasen: en vanlig
SHA-256 av ett svenskt mobilnummer knäcks på någon minut) och den maskerade formen.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_ENCRYPTION_INFO = b"smsportal campaigns recipient phone v1"


class PhoneDecryptionError(Exception):
    """Det krypterade numret gick inte att läsa (t.ex. efter byte av SECRET_KEY)."""


def phone_hash(e164: str) -> str:
    """HMAC-SHA256 av numret med PHONE_HASH_KEY, som hex (för dubblettkontroll)."""
    return hmac.new(settings.PHONE_HASH_KEY.encode(), e164.encode(), hashlib.sha256).hexdigest()


def _fernet() -> Fernet:
    """Krypteringsnyckeln härleds ur SECRET_KEY (HKDF), som inte heller ligger i databasen."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_ENCRYPTION_INFO).derive(
        settings.SECRET_KEY.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_phone(e164: str) -> str:
    """Krypterar numret (Fernet: AES-128-CBC med HMAC) för lagring fram till sändning."""
    return _fernet().encrypt(e164.encode()).decode()


def decrypt_phone(token: str) -> str:
    """Dekrypterar ett lagrat nummer; kastar PhoneDecryptionError om det inte går."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError) as error:
        raise PhoneDecryptionError("Numret kunde inte dekrypteras.") from error
