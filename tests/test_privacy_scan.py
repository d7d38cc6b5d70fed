"""Sökningen efter persondata ser verkligen det den ska: ett planterat nummer och en text med
å, ä, ö hittas i cachen, i django-q2:s kö, i kanal-lagret, i en databasrad och i en loggrad, i den
form de faktiskt lagras och i varje skrivsätt och kodning. Det maskerade numret och nyckelhashen,
som datakartan tillåter, träffas inte. (Ett kanarieprov med en sökning som inte kan hitta något
kan aldrig fallera.)"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from urllib.parse import quote, urlencode

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection
from django.utils.html import escape
from django_q.brokers import get_broker
from django_q.tasks import async_task

from audit.models import Action, AuditEvent
from campaigns.phones import phone_hash
from smsportal.phone import mask_phone
from tests.privacy import cache_text, database_text, leaks, phone_forms, phone_pattern, text_forms

pytestmark = pytest.mark.django_db

PLANTED_PHONE = "+46701112233"  # maskerat "070-111 ****": bara siffra 1–5 av de nio
PLANTED_TEXT = "Hämtning för örat på måndag, ta med 'remissen' & <legitimation>"

# Skrivsätt som den fasta listan `phone_forms` missar (utom %2B4670…); uttrycket över
# siffrorna (`phone_pattern`) hittar alla, också i den form databasen lagrar dem.
NUMBER_WRITINGS = [
    "070 11 12 233",  # annan gruppering
    "070-111%2022%2033",  # URL-kodade mellanslag
    "%2B46701112233",  # URL-kodat plus
    "0046 70-111 22 33",  # 00 i stället för +
    "+46 (0)70-111 22 33",  # nollan inom parentes
    "070\u00a0111\u00a022\u00a033",  # hårda mellanslag: blir \u00a0 i SQLite:s JSON
    "070\u2011111.22.33",  # hårt bindestreck och punkter
]

# Hur ett nummer och en text kan hamna i en loggrad: som leverantörens formulär, i en URL, som
# JSON, HTML-escapat, som bytes (UTF-8 och UTF-16) och som UCS-2 i hex (SMS med svenska tecken).
LOG_RENDERINGS: dict[str, Callable[[str, str], str]] = {
    "formulär": lambda to, text: urlencode({"to": to, "message": text}),
    "URL": lambda to, text: f"/sms/{quote(to)}?text={quote(text)}",
    "JSON": lambda to, text: json.dumps({"to": to, "message": text}),
    "HTML": lambda to, text: escape(f"{to}: {text}"),
    "UTF-8-bytes": lambda to, text: repr(f"{to}: {text}".encode()),
    "UTF-16-bytes": lambda to, text: repr(f"{to}: {text}".encode("utf-16-le")),
    "UCS-2-hex": lambda to, text: f"to={to}&udh=1&message={text.encode('utf-16-be').hex().upper()}",
}


@pytest.fixture(autouse=True)
def clean_queue() -> Iterator[None]:
    """Kön töms efteråt: det planterade jobbet får aldrig köras av någon annan."""
    yield
    get_broker().delete_queue()
    cache.delete("planterad")


def everything() -> str:
    """Allt som kanarieproven söker i: databasen (med django-q2:s tabeller) och cachen (med Redis)."""
    return database_text() + "\n" + cache_text()


def test_planted_value_in_the_cache_is_found() -> None:
    """Ett picklat värde med svenska tecken i cachen (LocMem eller Redis) hittas."""
    cache.set("planterad", {"text": PLANTED_TEXT, "nummer": PLANTED_PHONE})
    assert leaks([PLANTED_TEXT, PLANTED_PHONE], allt=everything()) == [
        f"{PLANTED_TEXT!r} i allt",
        f"{PLANTED_PHONE!r} i allt",
    ]


def test_planted_task_argument_in_the_queue_is_found() -> None:
    """Ett jobbargument i django-q2:s kö (signerat och komprimerat, i databasen eller Redis) hittas."""
    async_task("math.floor", PLANTED_PHONE, PLANTED_TEXT)
    found = leaks([*phone_forms(PLANTED_PHONE)[:1], PLANTED_TEXT], allt=everything())
    assert found == [f"{PLANTED_PHONE!r} i allt", f"{PLANTED_TEXT!r} i allt"]


def test_planted_channel_message_is_found_with_redis(settings: object) -> None:
    """Ett meddelande som väntar i kanal-lagret i Redis (msgpack) hittas."""
    layer = get_channel_layer()
    if layer.__class__.__name__ != "RedisChannelLayer":
        pytest.skip("kanal-lagret i minnet ligger inte i någon lagring (bara med REDIS_URL)")
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.send)(channel, {"type": "test", "text": PLANTED_TEXT})
    try:
        assert leaks([PLANTED_TEXT], allt=cache_text()) == [f"{PLANTED_TEXT!r} i allt"]
    finally:
        async_to_sync(layer.flush)()


def planted_event(**data: str) -> None:
    """En audit-händelse med planterade värden i JSON-fältet (förbi kontrollen i `audit.services`)."""
    AuditEvent.objects.create(action=Action.SMS_SENT, data=data)


@pytest.mark.parametrize("written", NUMBER_WRITINGS)
def test_planted_number_in_a_database_row_is_found_in_any_writing(written: str) -> None:
    """Ett nummer i en databasrads JSON hittas hur det än är skrivet och kodat."""
    planted_event(mottagare=written)
    assert len(leaks([phone_pattern(PLANTED_PHONE)], databas=database_text())) == 1


def test_planted_text_in_json_data_is_found_as_stored() -> None:
    """En text med å, ä, ö i ett JSON-fält hittas i den form databasen lagrar den: SQLite som
    "H\\u00e4mtning" (json.dumps med ensure_ascii), som en sökning på råtexten aldrig ser."""
    planted_event(anteckning=PLANTED_TEXT)
    stored = json.dumps(PLANTED_TEXT)[1:-1] if connection.vendor == "sqlite" else PLANTED_TEXT
    assert f"{stored!r} i databas" in leaks(text_forms(PLANTED_TEXT), databas=database_text())


@pytest.mark.parametrize("rendering", LOG_RENDERINGS, ids=str)
def test_planted_number_and_text_in_a_log_line_are_found(rendering: str, caplog: pytest.LogCaptureFixture) -> None:
    """En DEBUG-rad med numret och texten i en annan form hittas: numret som uttryck, texten
    i någon av sina kodningar."""
    caplog.set_level(logging.DEBUG, logger="tests.planterad")
    logging.getLogger("tests.planterad").debug("%s", LOG_RENDERINGS[rendering]("070 11 12 233", PLANTED_TEXT))
    assert len(leaks([phone_pattern(PLANTED_PHONE)], loggar=caplog.text)) == 1
    assert leaks(text_forms(PLANTED_TEXT), loggar=caplog.text)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-be", "utf-16-le"])
def test_planted_number_and_text_in_raw_bytes_are_found(encoding: str) -> None:
    """Råa bytes (t.ex. ett värde ur Redis) söks också: numret och texten hittas i varje kodning."""
    raw = f"070-111 22 33: {PLANTED_TEXT}".encode(encoding)
    assert len(leaks([phone_pattern(PLANTED_PHONE)], rå=raw)) == 1
    assert leaks(text_forms(PLANTED_TEXT), rå=raw)


def test_masked_number_and_keyed_hash_are_not_the_number() -> None:
    """Det datakartan tillåter är inte numret: den maskerade formen och nyckelhashen i en
    databasrad träffas inte av uttrycket (annars kunde kanarieprovet aldrig passera)."""
    planted_event(maskerat=mask_phone(PLANTED_PHONE), hash=phone_hash(PLANTED_PHONE))
    assert mask_phone(PLANTED_PHONE) in database_text()
    assert leaks([phone_pattern(PLANTED_PHONE)], databas=database_text()) == []
