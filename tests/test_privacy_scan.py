"""Sökningen efter persondata ser verkligen det den ska: ett planterat nummer och en text med
å, ä, ö hittas i cachen, i django-q2:s kö och i kanal-lagret, i den form de faktiskt lagras.
(Ett kanarieprov med en sökning som inte kan hitta något kan aldrig fallera.)"""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django_q.brokers import get_broker
from django_q.tasks import async_task

from tests.privacy import cache_text, database_text, leaks, phone_forms

pytestmark = pytest.mark.django_db

PLANTED_PHONE = "+46701112233"
PLANTED_TEXT = "Hämtning för örat på måndag"


@pytest.fixture(autouse=True)
def clean_queue() -> None:
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
