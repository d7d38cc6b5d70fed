"""Portalens egna nycklar prövas innan de används (vid start med DEBUG av och i `check --deploy`).

Bara standardbiblioteket och `cryptography`: modulen läses av config/settings.py innan Django
har startat och importerar inget annat av portalens kod.

Regeln för PHONE_HASH_KEY och SMS_WEBHOOK_TOKEN (och varje nyckel i PHONE_ENCRYPTION_KEYS):
minst 32 byte (256 bitar) slump, uppskattat så här:

1. Bitar per tecken efter det minsta vanliga alfabet som rymmer alla tecken: bara siffror
   3,3; hex (0–9 och a–f, eller A–F) 4; base64/base64url (A–Z, a–z, 0–9, + / - _ =) 6;
   allt annat 6,5 (som slumpade utskrivbara ASCII-tecken). Så ger `secrets.token_urlsafe(32)`
   (43 tecken) 258 bitar och `secrets.token_hex(32)` (64 tecken) 256.
2. Tecken i mönster räknas inte: ett avsnitt på minst 8 tecken som redan förekommit tidigare i
   värdet (abcabcabc…, aaaa…, en nyckel inklistrad två gånger) och en följd på minst 8 tecken
   med samma steg (aaaaaaaa, abcdefgh, 98765432). En slumpad nyckel har sådana mönster med
   sannolikhet under en på hundra tusen.
3. Minst 3 bitar per tecken i teckenfördelningen (Shannon-entropi): ett värde av några få
   tecken om och om igen (som "abbababaab…") vägras, även utan upprepade avsnitt.

Regeln känner inte igen ord: "en-lång-mening-med-många-ord" kan räknas som stark. Skapa därför
nycklarna med kommandona i .env.example, inte för hand. Dessutom får ingen av SECRET_KEY,
PHONE_HASH_KEY, SMS_WEBHOOK_TOKEN och nycklarna i PHONE_ENCRYPTION_KEYS vara samma som (eller
innehålla) någon annan: en läckt nyckel ska inte öppna något mer än sitt eget.
"""

from __future__ import annotations

import base64
import math
import string
from collections import Counter
from collections.abc import Iterable, Mapping

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MIN_RANDOM_BITS = 256
PATTERN_LENGTH = 8
MIN_BITS_PER_CHARACTER = 3.0
# Kortare värden än så jämförs bara på likhet, inte på om det ena finns inuti det andra.
MIN_SHARED_LENGTH = 16

GENERATE_TOKEN = 'python3 -c "import secrets; print(secrets.token_urlsafe(48))"'
# cryptography finns bara i portalens virtuella miljö: kommandot körs i portalens mapp.
GENERATE_FERNET = '.venv/bin/python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'

_BASE64 = set(string.ascii_letters + string.digits + "+/-_=")
# Alfabet från det minsta: (tecken, bitar per tecken). Det första som rymmer hela värdet gäller.
_ALPHABETS = [
    (set(string.digits), math.log2(10)),
    (set("0123456789abcdef"), 4.0),
    (set("0123456789ABCDEF"), 4.0),
    (_BASE64, 6.0),
]
_OTHER_BITS = 6.5

# Krypteringsnyckeln i utvecklingsläge härleds ur SECRET_KEY, som före PHONE_ENCRYPTION_KEYS.
_DEVELOPMENT_INFO = b"smsportal campaigns recipient phone v1"


def _bits_per_character(value: str) -> float:
    """Bitar per tecken för det minsta alfabet som rymmer alla värdets tecken."""
    characters = set(value)
    for alphabet, bits in _ALPHABETS:
        if characters <= alphabet:
            return bits
    return _OTHER_BITS


def _pattern_positions(value: str) -> set[int]:
    """Positionerna som upprepar ett tidigare avsnitt eller fortsätter en följd med samma steg
    (båda minst PATTERN_LENGTH tecken långa); avsnittets första förekomst räknas inte hit."""
    marked: set[int] = set()
    seen: set[str] = set()
    for start in range(len(value) - PATTERN_LENGTH + 1):
        window = value[start : start + PATTERN_LENGTH]
        if window in seen:
            marked.update(range(start, start + PATTERN_LENGTH))
        seen.add(window)
        steps = {ord(b) - ord(a) for a, b in zip(window, window[1:])}
        if len(steps) == 1 and abs(steps.pop()) <= 1:
            marked.update(range(start + 1, start + PATTERN_LENGTH))
    return marked


def random_bits(value: str) -> float:
    """Uppskattad slump i värdet, i bitar (se modulens docstring): tecknen utanför mönster
    gånger alfabetets bitar per tecken."""
    return (len(value) - len(_pattern_positions(value))) * _bits_per_character(value)


def bits_per_character(value: str) -> float:
    """Shannon-entropin i värdets teckenfördelning (bitar per tecken; 0 för ett tomt värde)."""
    counts = Counter(value)
    return sum(n / len(value) * math.log2(len(value) / n) for n in counts.values())


def weakness(name: str, value: str, generate: str = GENERATE_TOKEN) -> str | None:
    """Ett svenskt besked om varför `value` inte duger som nyckel, eller None om den duger."""
    bits = random_bits(value)
    if bits < MIN_RANDOM_BITS:
        return (
            f"{name} är för svag: ungefär {bits:.0f} bitar slump, minst {MIN_RANDOM_BITS} (32 byte) krävs "
            f"(upprepade avsnitt och teckenföljder som aaaa…, abcabc…, 12345678 räknas inte). "
            f"Skapa en ny med: {generate}"
        )
    spread = bits_per_character(value)
    if spread < MIN_BITS_PER_CHARACTER:
        return (
            f"{name} har för få olika tecken ({spread:.1f} bitar per tecken, minst "
            f"{MIN_BITS_PER_CHARACTER:.0f} krävs). Skapa en ny med: {generate}"
        )
    return None


def fernet_key_error(name: str, key: str) -> str | None:
    """Ett svenskt besked om `key` inte är en Fernet-nyckel (32 byte i url-säker base64), annars None."""
    try:
        Fernet(key.encode())
    except ValueError:
        return f"{name} är ingen Fernet-nyckel (32 byte i url-säker base64, 44 tecken). Skapa en med: {GENERATE_FERNET}"
    return None


def encryption_key_names(keys: Iterable[str]) -> dict[str, str]:
    """Nycklarna i PHONE_ENCRYPTION_KEYS med namn för beskeden: "PHONE_ENCRYPTION_KEYS (nyckel 1)" …"""
    return {f"PHONE_ENCRYPTION_KEYS (nyckel {number})": key for number, key in enumerate(keys, start=1)}


def shared_keys(named: Mapping[str, str]) -> list[str]:
    """Svenska besked för varje par av nycklar som är lika, eller där den ena finns inuti den andra."""
    problems = []
    items = [(name, value) for name, value in named.items() if value]
    for index, (first, first_value) in enumerate(items):
        for second, second_value in items[index + 1 :]:
            shorter, longer = sorted((first_value, second_value), key=len)
            if shorter == longer or (len(shorter) >= MIN_SHARED_LENGTH and shorter in longer):
                problems.append(
                    f"{first} och {second} är samma nyckel (eller den ena innehåller den andra): "
                    "varje nyckel ska slumpas för sig."
                )
    return problems


def key_problems(
    *,
    secret_key: str,
    phone_hash_key: str,
    webhook_token: str,
    encryption_keys: Iterable[str],
    examples: Mapping[str, str],
) -> list[str]:
    """Alla problem med portalens nycklar, som svenska besked (tom lista: allt i ordning).

    SMS_WEBHOOK_TOKEN får vara tom: bara 46elks och Sinch utan SINCH_WEBHOOK_SECRET behöver den,
    och de backenderna vägrar själva starta utan. Är den satt gäller samma regel som för
    PHONE_HASH_KEY.
    """
    encryption = encryption_key_names(encryption_keys)
    problems = []
    if not encryption:
        problems.append(f"PHONE_ENCRYPTION_KEYS saknas: minst en Fernet-nyckel. Skapa en med: {GENERATE_FERNET}")
    for name, value in (("PHONE_HASH_KEY", phone_hash_key), ("SMS_WEBHOOK_TOKEN", webhook_token)):
        if name == "PHONE_HASH_KEY" and not value:
            problems.append(f"PHONE_HASH_KEY saknas. Skapa en med: {GENERATE_TOKEN}")
        elif value and value == examples.get(name):
            problems.append(f"{name} har exempelvärdet från .env.example. Skapa en egen med: {GENERATE_TOKEN}")
        elif value:
            problems.append(weakness(name, value) or "")
    for name, key in encryption.items():
        problems.append(fernet_key_error(name, key) or weakness(name, key, GENERATE_FERNET) or "")
    named = {"SECRET_KEY": secret_key, "PHONE_HASH_KEY": phone_hash_key, "SMS_WEBHOOK_TOKEN": webhook_token}
    problems += shared_keys({**named, **encryption})
    return [problem for problem in problems if problem]


def development_encryption_key(secret_key: str) -> str:
    """Krypteringsnyckeln i utvecklingsläge utan PHONE_ENCRYPTION_KEYS: härledd ur SECRET_KEY (HKDF).

    Bara för DEBUG: i drift krävs egna nycklar, så att byte av SECRET_KEY aldrig gör köade
    nummer oläsbara.
    """
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_DEVELOPMENT_INFO).derive(secret_key.encode())
    return base64.urlsafe_b64encode(key).decode()
