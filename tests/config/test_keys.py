"""Nycklarna prövas innan de används: vid start med DEBUG av och i `check --deploy` (config/keys.py)."""

from __future__ import annotations

import base64
import random
import secrets
from collections.abc import Callable
from functools import partial

import pytest
from cryptography.fernet import Fernet
from django.core.management.utils import get_random_secret_key

from config.keys import random_bits, weakness
from tests.accounts.test_security import manage, production_env

DEPLOY_CHECK = ("check", "--deploy", "--fail-level", "WARNING")


def few_letters() -> str:
    """Ett långt värde av bara fyra tecken (400 bitar enligt alfabetet), utan upprepade avsnitt
    på 8 tecken (slumpat med fast frö): bara regeln om för få olika tecken stoppar det."""
    rng = random.Random(0)
    return "".join(rng.choice("abcd") for _ in range(100))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PHONE_HASH_KEY", "x", "PHONE_HASH_KEY är för svag"),
        ("PHONE_HASH_KEY", "a" * 64, "PHONE_HASH_KEY är för svag"),
        ("PHONE_HASH_KEY", "0123456789abcdef" * 4, "PHONE_HASH_KEY är för svag"),
        ("SMS_WEBHOOK_TOKEN", "abc", "SMS_WEBHOOK_TOKEN är för svag"),
        ("SMS_WEBHOOK_TOKEN", "abc" * 30, "SMS_WEBHOOK_TOKEN är för svag"),
        ("SMS_WEBHOOK_TOKEN", few_letters(), "SMS_WEBHOOK_TOKEN har för få olika tecken"),
        ("PHONE_ENCRYPTION_KEYS", "inte-en-nyckel", "PHONE_ENCRYPTION_KEYS (nyckel 1) är ingen Fernet-nyckel"),
        (
            "PHONE_ENCRYPTION_KEYS",
            base64.urlsafe_b64encode(bytes(32)).decode(),  # en giltig Fernet-nyckel av bara nollor
            "PHONE_ENCRYPTION_KEYS (nyckel 1) är för svag",
        ),
        ("PHONE_ENCRYPTION_KEYS", "", "PHONE_ENCRYPTION_KEYS saknas"),
    ],
    ids=["kort", "aaaa", "hexföljd", "kort-token", "abcabc", "fyra-tecken", "ingen-fernet", "nollnyckel", "saknas"],
)
def test_weak_key_fails_the_deploy_check(name: str, value: str, message: str) -> None:
    """En kort, upprepad, enformig eller ogiltig nyckel stoppar `check --deploy` med ett svenskt besked."""
    result = manage(*DEPLOY_CHECK, env=production_env(**{name: value}))
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    ("copy", "from_name", "message"),
    [
        ("PHONE_HASH_KEY", "SECRET_KEY", "SECRET_KEY och PHONE_HASH_KEY är samma nyckel"),
        ("SMS_WEBHOOK_TOKEN", "SECRET_KEY", "SECRET_KEY och SMS_WEBHOOK_TOKEN är samma nyckel"),
        ("SMS_WEBHOOK_TOKEN", "PHONE_HASH_KEY", "PHONE_HASH_KEY och SMS_WEBHOOK_TOKEN är samma nyckel"),
    ],
)
def test_shared_key_fails_the_deploy_check(copy: str, from_name: str, message: str) -> None:
    """En nyckel som är en annan nyckels värde stoppar `check --deploy`."""
    env = production_env()
    env[copy] = env[from_name]
    result = manage(*DEPLOY_CHECK, env=env)
    assert result.returncode != 0
    assert message in result.stderr


def test_key_containing_another_key_fails_the_deploy_check() -> None:
    """En nyckel som bara är en annan nyckel med något tillagt räknas som samma nyckel."""
    env = production_env()
    env["PHONE_HASH_KEY"] = "hash-" + env["SECRET_KEY"]
    result = manage(*DEPLOY_CHECK, env=env)
    assert result.returncode != 0
    assert "SECRET_KEY och PHONE_HASH_KEY är samma nyckel" in result.stderr


def test_deploy_check_reports_weak_keys_even_with_debug_on() -> None:
    """Systemkontrollen (config.E001) prövar nycklarna även när startkontrollen inte gör det (DEBUG på)."""
    result = manage(*DEPLOY_CHECK, env=production_env(DEBUG="true", PHONE_HASH_KEY="kort-nyckel"))
    assert result.returncode != 0
    assert "config.E001" in result.stderr and "PHONE_HASH_KEY är för svag" in result.stderr


def test_empty_webhook_token_passes_when_no_provider_needs_it() -> None:
    """Twilio signerar själv: utan 46elks och osignerad Sinch får SMS_WEBHOOK_TOKEN vara tom."""
    result = manage(*DEPLOY_CHECK, env=production_env(SMS_PROVIDERS="twilio", SMS_WEBHOOK_TOKEN=""))
    assert result.returncode == 0, result.stdout + result.stderr


def fernet_key() -> str:
    """En Fernet-nyckel, som kommandot i .env.example skriver ut."""
    return Fernet.generate_key().decode()


def openssl_base64_key() -> str:
    """32 slumpade byte i vanlig base64, som `openssl rand -base64 32`."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.mark.parametrize(
    "generate",
    [
        partial(secrets.token_urlsafe, 32),
        partial(secrets.token_hex, 32),
        fernet_key,
        openssl_base64_key,
        get_random_secret_key,
    ],
    ids=["token_urlsafe-32", "token_hex-32", "fernet", "base64-32", "django-secret-key"],
)
def test_generated_keys_of_32_bytes_pass(generate: Callable[[], str]) -> None:
    """Nycklar från vanliga generatorer med 32 byte slump godtas (2 000 prov av var)."""
    rejected = [key for key in (generate() for _ in range(2000)) if weakness("NYCKEL", key)]
    assert rejected == []


def test_patterns_do_not_count_as_randomness() -> None:
    """Upprepade avsnitt och teckenföljder ger inga bitar; slumpade tecken ger alfabetets bitar."""
    assert random_bits("Zq" + "abcdefghijklmnop") == pytest.approx(3 * 6)  # följden räknas som ett tecken
    assert random_bits("x7Kd9pQ2" * 8) == pytest.approx(8 * 6)  # bara första förekomsten räknas
    assert random_bits("9f3a") == pytest.approx(4 * 4)  # hex: 4 bitar per tecken
