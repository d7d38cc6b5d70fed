"""SMS-varianterna: innehåll, dagsformer och antal SMS-delar."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from pytest_django.fixtures import Settings

from campaigns.messages import message_with_consent, message_without_consent, relative_day
from campaigns.models import new_reply_code
from common.smstext import analyse

# Söndag 22 november 2026 kl 10 i Stockholm: idag, imorgon och torsdag 26/11 (längsta dagsformen).
NOW = datetime(2026, 11, 22, 10, 0)
SLOTS = {
    "idag": datetime(2026, 11, 22, 23, 30),
    "imorgon": datetime(2026, 11, 23, 8, 0),
    "tors 26/11": datetime(2026, 11, 26, 14, 45),
}


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[Any]:
    """Klockan står på söndag 22/11 2026 kl 10 (Stockholm)."""
    with time_machine.travel(timezone.make_aware(NOW), tick=False) as traveller:
        yield traveller


@pytest.fixture
def clinic_domain(settings: Settings) -> None:
    """Klinikens riktiga länkdomän i stället för testserverns."""
    settings.PUBLIC_BASE_URL = "https://sms.sodermalmsortopedi.se"


@pytest.mark.parametrize("day", list(SLOTS))
def test_relative_day_forms(day: str) -> None:
    """ "idag", "imorgon", annars veckodag och datum."""
    assert relative_day(timezone.make_aware(SLOTS[day])) == day


@pytest.mark.parametrize("day", list(SLOTS))
def test_without_consent_is_one_gsm7_segment_and_vague(clinic_domain: None, day: str) -> None:
    """Utan samtycke: ett GSM-7-SMS med klinikens domän, dag och länk, inget namn, ingen operation."""
    code = new_reply_code()
    text = message_without_consent(timezone.make_aware(SLOTS[day]), code)
    info = analyse(text)
    assert (info.encoding, info.segments) == ("GSM-7", 1), (info.characters, text)
    assert f"sms.sodermalmsortopedi.se/s/{code}" in text
    assert "https://" not in text
    assert f"ledig {day}." in text
    for word in ("operation", "Anna", "axel", "kl "):
        assert word not in text


@pytest.mark.parametrize("day", list(SLOTS))
def test_with_consent_has_first_name_operation_day_and_time(clinic_domain: None, day: str) -> None:
    """Med samtycke: förnamn, operationstyp, dag och klockslag; bara GSM-7-tecken i den fasta texten."""
    slot = timezone.make_aware(SLOTS[day])
    code = new_reply_code()
    text = message_with_consent(slot, code, "Anna Andersson", "axeloperation")
    assert text.startswith("Hej Anna! En operationstid för din axeloperation har blivit ledig ")
    assert "Andersson" not in text
    assert f"kl {slot:%H:%M}" in text and day in text
    assert f"sms.sodermalmsortopedi.se/s/{code}" in text
    info = analyse(text)
    assert (info.encoding, info.segments) == ("GSM-7", 2)


def test_with_consent_without_operation_type() -> None:
    """Utan angiven operationstyp: "En operationstid" utan "för din"."""
    text = message_with_consent(timezone.make_aware(SLOTS["imorgon"]), "abc", "Karl", "")
    assert "Hej Karl! En operationstid har blivit ledig imorgon mån 23/11 kl 08:00." in text


def test_dates_in_the_clinic_time_zone() -> None:
    """Dag och klockslag räknas i Stockholmstid även när tiden lagras i UTC."""
    slot = timezone.make_aware(datetime(2026, 11, 23, 0, 30))  # söndag 23:30 UTC
    assert relative_day(slot) == "imorgon"
    assert "imorgon mån 23/11 kl 00:30" in message_with_consent(slot, "abc", "Anna", "")
