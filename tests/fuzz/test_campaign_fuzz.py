"""Egenskapstester för akut-SMS-formuläret och kampanjernas statusknappar.

Förhandsgranska och skicka med slumpade tider, operationstyper, fientliga mottagarrader,
långa listor, aviseringsnummer och formulär-id: alltid sidan med svenska besked eller en
omdirigering till den skapade kampanjen, aldrig ett 500-fel eller okodad HTML.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.test import Client
from django.utils import timezone
from django.utils.html import escape
from hypothesis import given
from hypothesis import strategies as st

from campaigns.models import Campaign
from tests.campaigns.factories import make_campaign
from tests.fuzz.checks import FUZZ, HOSTILE, MARKER, MARKER_ESCAPED, TEXT, assert_clean

LIST_URL = "/personal/akut-sms/"


def valid_line(name: str, digits: str, consent: str, separator: str) -> str:
    """En mottagarrad som tolkaren godtar om namnet är rimligt: namn, 070-nummer, samtycke."""
    return separator.join([name, f"070-{digits[:3]} {digits[3:5]} {digits[5:]}", consent])


VALID_LINE = st.builds(
    valid_line,
    name=st.one_of(st.sampled_from(["Anna Andersson", "Åsa Öberg", MARKER]), st.text(min_size=1, max_size=120)),
    digits=st.text("0123456789", min_size=7, max_size=7),
    consent=st.sampled_from(["ja", "nej", "", "JA", "x", "kanske", MARKER]),
    separator=st.sampled_from([", ", ";", "\t", " , "]),
)
RECIPIENTS = st.lists(st.one_of(VALID_LINE, TEXT), max_size=8).map("\n".join) | TEXT
SOON = st.dates(min_value=date.today() - timedelta(days=2), max_value=date.today() + timedelta(days=30))
SLOT_DATE = st.one_of(SOON.map(date.isoformat), TEXT, st.sampled_from(["9999-12-31", "0001-01-01", "2026-02-30"]))
SLOT_TIME = st.one_of(st.times().map(lambda t: t.isoformat(timespec="minutes")), TEXT, st.just("24:00"))
NOTIFY = st.one_of(TEXT, st.sampled_from(["070-123 45 67", "+4670123456789", "112"]))


@FUZZ
@given(
    slot_date=SLOT_DATE,
    slot_time=SLOT_TIME,
    operation_type=TEXT,
    recipients=RECIPIENTS,
    notify_phone=NOTIFY,
    request_id=st.one_of(st.uuids().map(str), TEXT),
    send=st.booleans(),
)
def test_campaign_form_never_fails_with_500(
    staff_client: Client,
    slot_date: str,
    slot_time: str,
    operation_type: str,
    recipients: str,
    notify_phone: str,
    request_id: str,
    send: bool,
) -> None:
    """Förhandsgranskning (200) eller skapad kampanj (302); inmatningen står kvar som text."""
    data = {
        "slot_date": slot_date,
        "slot_time": slot_time,
        "operation_type": operation_type,
        "recipients": recipients,
        "notify_phone": notify_phone,
        "request_id": request_id,
    }
    if send:
        data["skicka"] = "1"
    response = staff_client.post(LIST_URL, data)
    page = assert_clean(response, {200, 302})
    if response.status_code == 302:
        assert response["Location"].startswith(LIST_URL)
    elif MARKER in recipients:
        assert MARKER_ESCAPED in page  # listan står kvar i formuläret, som text


@FUZZ
@given(
    pk=st.one_of(st.integers(min_value=-(2**70), max_value=2**70), TEXT),
    action=st.sampled_from(["tillsatt/", "avsluta/", "status/", ""]),
    method=st.sampled_from(["get", "post"]),
)
def test_campaign_pages_with_odd_ids(staff_client: Client, pk: Any, action: str, method: str) -> None:
    """Udda id:n i adressen ger 404 (svensk sida) eller 405, aldrig ett 500-fel."""
    url = f"{LIST_URL}{quote(str(pk), safe='')}/{action}"
    response = getattr(staff_client, method)(url)
    assert_clean(response, {404, 405})


def test_status_buttons_on_a_real_campaign(staff_client: Client, staff_user: Any) -> None:
    """Kontroll av testet ovan: samma adresser med ett riktigt id fungerar."""
    campaign = make_campaign(staff_user)
    assert staff_client.get(f"{LIST_URL}{campaign.pk}/status/").status_code == 200
    response = staff_client.post(f"{LIST_URL}{campaign.pk}/avsluta/")
    assert_clean(response, {302})
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.CLOSED


def post_list(client: Client, recipients: str) -> str:
    """Förhandsgranskar en kampanj i morgon kl 08 med listan och returnerar sidan."""
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    data = {"slot_date": tomorrow, "slot_time": "08:00", "operation_type": "", "recipients": recipients}
    return assert_clean(client.post(LIST_URL, data), {200})


def test_too_many_recipients_keeps_the_list(staff_client: Client) -> None:
    """Fler rader än CAMPAIGN_MAX_RECIPIENTS: svenskt besked, listan står kvar, inget skapas."""
    count = settings.CAMPAIGN_MAX_RECIPIENTS + 1
    recipients = "\n".join(f"Patient {n}, 070-{n:07d}, ja" for n in range(count))
    page = post_list(staff_client, recipients)
    assert f"Listan har {count} rader; högst {settings.CAMPAIGN_MAX_RECIPIENTS} mottagare per kampanj." in page
    assert recipients in page
    assert not Campaign.objects.exists()


@FUZZ
@given(line=HOSTILE, repeat=st.integers(min_value=1, max_value=1000))
def test_huge_hostile_lists(staff_client: Client, line: str, repeat: int) -> None:
    """Upp till tusen fientliga rader (under 256 KiB): sidan med listan kvar, aldrig ett 500-fel."""
    row = f"{line}, 070-123 45 67"
    repeat = min(repeat, 200_000 // len(row.encode()))  # under DATA_UPLOAD_MAX_MEMORY_SIZE
    recipients = "\n".join([row] * repeat)
    assert escape(recipients) in post_list(staff_client, recipients)
