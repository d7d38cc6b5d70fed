"""Tratten på kampanjsidan: skickade → levererade → öppnade → svarade → JA → bokad, med tider."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.outcomes import record_call_outcome
from campaigns.services import change_status, mark_opened, record_answer
from smsportal.delivery import DeliveryStatus, receive_report
from tests.campaigns.factories import at, make_campaign, recipient, send_all


def _funnel(client: Client, campaign: Campaign) -> dict[str, tuple[str, int, str]]:
    """Tratten ur statusadressen (samma som websocketen skickar): {steg: (namn, antal, tid)}."""
    response = client.get(reverse("campaigns:snapshot", args=[campaign.pk]))
    return {step["key"]: (step["label"], step["count"], step["after"]) for step in response.json()["funnel"]}


def sent_campaign(staff_user: Any) -> tuple[datetime, Campaign]:
    """En kampanj vars SMS skickades nu (hela sekunder): (starttiden, kampanjen)."""
    start = timezone.now().replace(microsecond=0)
    with at(start):
        campaign = make_campaign(staff_user)
        send_all(campaign)
    return start, campaign


def test_funnel_counts_and_times_from_start(staff_client: Client, staff_user: Any) -> None:
    """Tre skickade, en levererad efter 1 min, två öppnade (första efter 4 min), två svar (första
    efter 6 min), ett JA efter 9 min och Bokad efter 1 h 5 min."""
    start, campaign = sent_campaign(staff_user)
    anna, karl = recipient(campaign, "Anna Andersson"), recipient(campaign, "Karl Karlsson")
    with at(start + timedelta(minutes=1)):
        receive_report("locmem", anna.provider_message_id, DeliveryStatus.DELIVERED)
    with at(start + timedelta(minutes=4)):
        mark_opened(karl)
    with at(start + timedelta(minutes=6)):
        record_answer(karl, "no")
    with at(start + timedelta(minutes=8)):
        mark_opened(anna)
    with at(start + timedelta(minutes=9)):
        record_answer(anna, "yes")
        assert _funnel(staff_client, campaign)["bokad"] == ("Bokad", 0, "")
    with at(start + timedelta(minutes=65)):
        record_call_outcome(campaign, anna.pk, "booked", staff_user)
        staff_client.force_login(staff_user)  # utloggad efter 30 minuter utan aktivitet
        funnel = _funnel(staff_client, campaign)
        page = staff_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert funnel == {
        "skickade": ("Skickade", 3, "under 1 min"),
        "levererade": ("Levererade", 1, "1 min"),
        "oppnade": ("Öppnade", 2, "4 min"),
        "svarade": ("Svarade", 2, "6 min"),
        "ja": ("JA", 1, "9 min"),
        "bokad": ("Bokad", 1, "1 h 5 min"),
    }
    assert (
        'data-testid="tratt-ja">1</strong> <span class="small text-body-secondary" data-testid="tratt-ja-tid">efter 9 min</span>'
        in page
    )


def test_slot_given_outside_the_list_shows_as_filled(staff_client: Client, staff_user: Any) -> None:
    """ "Tiden är tillsatt" utan patient från listan: sista steget heter Tillsatt."""
    campaign = make_campaign(staff_user)
    send_all(campaign)
    change_status(campaign, staff_user, Campaign.Status.FILLED)
    assert _funnel(staff_client, campaign)["bokad"][:2] == ("Tillsatt", 1)


def test_answer_without_the_page_script_counts_as_opened(staff_client: Client, staff_user: Any) -> None:
    """Ett svar från en sida utan JavaScript (ingen öppningsnotis): öppnad vid svaret, så tratten aldrig
    visar fler svarade än öppnade. En tidigare öppning står kvar, och ett nytt svar flyttar den inte."""
    start, campaign = sent_campaign(staff_user)
    anna, karl = recipient(campaign, "Anna Andersson"), recipient(campaign, "Karl Karlsson")
    with at(start + timedelta(minutes=2)):
        mark_opened(karl)
    with at(start + timedelta(minutes=3)):
        record_answer(anna, "no")
    with at(start + timedelta(minutes=5)):
        record_answer(karl, "yes")
    with at(start + timedelta(minutes=7)):
        record_answer(anna, "yes")
        mark_opened(anna)  # skriptet hann köras efteråt: ändrar ingenting
        funnel = _funnel(staff_client, campaign)
    assert funnel["oppnade"] == ("Öppnade", 2, "2 min")
    assert funnel["svarade"] == ("Svarade", 2, "5 min")
    assert recipient(campaign, "Anna Andersson").opened_at == start + timedelta(minutes=3)
    assert recipient(campaign, "Karl Karlsson").opened_at == start + timedelta(minutes=2)
