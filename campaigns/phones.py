"""Mottagarnas nummer i kampanjer: nyckelhash, kryptering till sändning, maskerad form.

Enligt dataskyddskartan sparas numret krypterat bara tills SMS:et är skickat, därefter
bara en nyckelhash (HMAC-SHA256 med PHONE_HASH_KEY, som inte ligger i databasen: en vanlig
SHA-256 av ett svenskt mobilnummer knäcks på någon minut) och den maskerade formen.

Krypteringen använder egna nycklar, PHONE_ENCRYPTION_KEYS (MultiFernet): den första krypterar,
alla dekrypterar. Byte av nyckel: lägg den nya först och behåll den gamla tills
`manage.py rotate_phone_keys` har krypterat om de köade numren (eller de har skickats).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class PhoneDecryptionError(Exception):
    """Det krypterade numret gick inte att läsa (nyckeln finns inte längre i PHONE_ENCRYPTION_KEYS)."""


def phone_hash(e164: str) -> str:
    """HMAC-SHA256 av numret med PHONE_HASH_KEY, som hex (för dubblettkontroll)."""
    return hmac.new(settings.PHONE_HASH_KEY.encode(), e164.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=4)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    """MultiFernet för nycklarna i ordning (den första krypterar); sparas per nyckeluppsättning."""
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _fernet() -> MultiFernet:
    """Nycklarna i PHONE_ENCRYPTION_KEYS, som inte ligger i databasen och inte hänger på SECRET_KEY."""
    return _multi_fernet(tuple(settings.PHONE_ENCRYPTION_KEYS))


def encrypt_phone(e164: str) -> str:
    """Krypterar numret (Fernet: AES-128-CBC med HMAC) för lagring fram till sändning."""
    return _fernet().encrypt(e164.encode()).decode()


def decrypt_phone(token: str) -> str:
    """Dekrypterar ett lagrat nummer; kastar PhoneDecryptionError om det inte går."""
    return _stored(token, _fernet().decrypt)


def reencrypt_phone(token: str) -> str:
    """Krypterar om ett lagrat nummer med den första nyckeln; kastar PhoneDecryptionError om
    ingen nyckel i PHONE_ENCRYPTION_KEYS kan läsa det."""
    return _stored(token, _fernet().rotate)


def _stored(token: str, operation: Callable[[bytes], bytes]) -> str:
    """Kör `operation` (dekryptera eller kryptera om) på ett lagrat nummer; ett nummer som ingen
    nyckel kan läsa ger PhoneDecryptionError (utan numret eller token i texten)."""
    try:
        return operation(token.encode()).decode()
    except (InvalidToken, ValueError) as error:
        raise PhoneDecryptionError("Numret kunde inte dekrypteras.") from error
