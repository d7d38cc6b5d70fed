"""Rubrik och "Svara senast": formuläret, SMS:et, patientsidan och stängningen vid svarstiden."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings

from audit.models import Action, AuditEvent
from campaigns.messages import message_with_consent, message_without_consent
from campaigns.models import Campaign, Recipient
from campaigns.services import record_answer
from common.smstext import analyse
from tests.campaigns.factories import make_campaign, recipient, run_minute_schedule, send_all
from tests.campaigns.test_views import form_data

LIST_URL = reverse("campaigns:list")
# Tisdag 1 december 2026 kl 10:00 i Stockholm; den lediga tiden är onsdag kl 08:00.
NOW = timezone.make_aware(datetime(2026, 12, 1, 10, 0))
SLOT = timezone.make_aware(datetime(2026, 12, 2, 8, 0))


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[Any]:
    """Klockan står på tisdag 1/12 2026 kl 10 (Stockholm); testerna flyttar den själva."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def slot_form(**changes: str) -> dict[str, str]:
    """Formuläret för onsdag 2/12 kl 08:00."""
    return form_data(**{"slot_date": "2026-12-02", "slot_time": "08:00", **changes})


def test_title_and_default_deadline_two_hours_before_the_slot(staff_client: Client) -> None:
    """Tom svarstid: två timmar före tiden, visad i förhandsgranskningen och sparad; rubriken bara för personalen."""
    preview = staff_client.post(LIST_URL, slot_form(title="Dr Ek, sal 3")).content.decode()
    assert "Svara senast: <strong>onsdag 2 december kl 06:00</strong>" in preview
    response = staff_client.post(LIST_URL, slot_form(title="Dr Ek, sal 3", skicka="1"), follow=True)
    campaign = Campaign.objects.get()
    assert campaign.title == "Dr Ek, sal 3"
    assert campaign.answer_deadline == SLOT - timedelta(hours=2)
    page = response.content.decode()
    assert "Dr Ek, sal 3: Ledig tid" in page and "Svara senast onsdag 2 december kl 06:00" in page
    assert "Dr Ek, sal 3" in staff_client.get(LIST_URL).content.decode()
    code = recipient(campaign, "Karl Karlsson").code
    patient_page = Client().get(reverse("replies:answer", args=[code])).content.decode()
    assert "Dr Ek" not in patient_page
    assert "Svara senast onsdag 2/12" in patient_page and "kl 06:00" in patient_page


def test_a_chosen_deadline_is_kept(staff_client: Client) -> None:
    """Ett angivet "Svara senast" sparas som det skrevs."""
    staff_client.post(LIST_URL, slot_form(answer_deadline="2026-12-01T18:30", skicka="1"))
    assert Campaign.objects.get().answer_deadline == timezone.make_aware(datetime(2026, 12, 1, 18, 30))


@pytest.mark.parametrize(
    "changes, field, message",
    [
        (
            {"answer_deadline": "2026-12-02T08:30"},
            "answer_deadline",
            "Svara senast kan inte vara efter den lediga tiden.",
        ),
        (
            {"answer_deadline": "2026-12-01T10:10"},
            "answer_deadline",
            "Svara senast måste vara minst 15 minuter från nu.",
        ),
        ({"answer_deadline": "i morgon"}, "answer_deadline", "Ange ett giltigt datum och klockslag för svara senast."),
        (
            {"slot_date": "2026-12-01", "slot_time": "10:10"},
            "slot_time",
            "Tiden är för nära: patienterna behöver minst 15 minuter att svara.",
        ),
        ({"title": "Ring 070-123 45 67"}, "title", "Rubriken får inte innehålla ett telefonnummer."),
    ],
)
def test_bad_deadline_or_title_is_refused_in_swedish(
    staff_client: Client, changes: dict[str, str], field: str, message: str
) -> None:
    """Fel svarstid eller rubrik: svenskt fel vid fältet, inget skapas, allt skrivet står kvar."""
    response = staff_client.post(LIST_URL, slot_form(skicka="1", **changes))
    assert response.status_code == 200 and not Campaign.objects.exists()
    assert response.context["form"].errors[field] == [message]
    assert "Anna Andersson, 070-123 45 67, ja" in response.content.decode()


def test_a_near_slot_gets_a_deadline_fifteen_minutes_from_now(staff_client: Client) -> None:
    """Tiden om en timme: två timmar före har redan passerat, så svarstiden blir om 15 minuter."""
    staff_client.post(LIST_URL, slot_form(slot_date="2026-12-01", slot_time="11:00", skicka="1"))
    assert Campaign.objects.get().answer_deadline == NOW + timedelta(minutes=15)


def test_the_sms_shows_the_deadline_only_where_it_fits(settings: Settings) -> None:
    """Utan samtycke står "Svara senast" med bara när SMS:et ändå är ett GSM-7-SMS: med testets
    korta domän ryms den korta formen för en svarstid idag, men inte "imorgon kl 06:00" eller
    klinikens långa domän. Med samtycke står den med när den inte ger fler delar."""
    code = "x" * 17
    today = NOW + timedelta(hours=6)
    text = message_without_consent(SLOT, code, today)
    assert "Svara senast kl 16:00. Först till kvarn" in text
    assert (analyse(text).encoding, analyse(text).segments) == ("GSM-7", 1)
    assert message_without_consent(SLOT, code, SLOT - timedelta(hours=2)) == message_without_consent(SLOT, code)
    with_consent = message_with_consent(SLOT, code, "Anna", "axeloperation", SLOT - timedelta(hours=2))
    assert "varsel? Svara senast imorgon kl 06:00. Svara här:" in with_consent
    assert analyse(with_consent).segments == analyse(message_with_consent(SLOT, code, "Anna", "axeloperation")).segments
    settings.PUBLIC_BASE_URL = "https://sms.sodermalmsortopedi.se"
    long_text = message_without_consent(SLOT, code, today)
    assert "Svara senast" not in long_text and analyse(long_text).segments == 1


def test_the_sent_sms_carries_the_deadline(staff_user: Any, sms_outbox: list[Any]) -> None:
    """Sändjobbet använder kampanjens svarstid."""
    make_campaign(staff_user, slot_at=SLOT, answer_deadline=NOW + timedelta(hours=6))
    send_all(Campaign.objects.get())
    without_consent = next(m.text for m in sms_outbox if m.to == "+46701234568")
    assert "Svara senast kl 16:00." in without_consent


def test_at_the_deadline_the_campaign_closes_by_itself(
    staff_user: Any, frozen_clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Efter svarstiden: inga svar tas emot, minutschemat stänger kampanjen (audit "system"),
    osända mottagare avbryts och deras nummer raderas, och länken visar att erbjudandet är slut."""
    deadline = NOW + timedelta(minutes=30)
    campaign = make_campaign(staff_user, slot_at=SLOT, answer_deadline=deadline)
    anna, karl = recipient(campaign, "Anna Andersson"), recipient(campaign, "Karl Karlsson")
    from campaigns.tasks import send_to_recipient

    send_to_recipient(anna.pk)
    assert record_answer(anna, Recipient.Answer.YES).accepted
    assert Client().get(reverse("replies:answer", args=[karl.code])).content.decode().count("Svara senast") == 1

    frozen_clock.move_to(deadline + timedelta(seconds=1))
    campaign.refresh_from_db()
    assert not campaign.is_open and campaign.shown_status == "svarstiden har gått ut"
    assert not record_answer(karl, Recipient.Answer.YES).accepted
    with django_capture_on_commit_callbacks(execute=True):
        run_minute_schedule()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CLOSED and campaign.status_changed_at == timezone.now()
    event = AuditEvent.objects.get(action=Action.CAMPAIGN_CLOSED)
    assert (event.actor_username, event.actor, event.data) == ("system", None, {"kampanj": campaign.pk})
    karl.refresh_from_db()
    assert karl.send_status == Recipient.SendStatus.CANCELLED and karl.phone_encrypted == ""
    page = Client().get(reverse("replies:answer", args=[karl.code])).content.decode()
    assert "JA, jag kan komma" not in page and "ordinarie tid kvarstår" in page
    # En andra körning gör ingenting mer.
    run_minute_schedule()
    assert AuditEvent.objects.filter(action=Action.CAMPAIGN_CLOSED).count() == 1


def test_a_campaign_without_deadline_follows_the_slot_as_before(staff_user: Any, frozen_clock: Any) -> None:
    """Kampanjer från före fältet (ingen svarstid): öppna tills tiden, stängs inte av schemat."""
    campaign = make_campaign(staff_user, slot_at=SLOT)
    frozen_clock.move_to(SLOT - timedelta(minutes=1))
    run_minute_schedule()
    campaign.refresh_from_db()
    assert campaign.is_open and campaign.status == Campaign.Status.ACTIVE


def test_the_live_page_says_the_answer_time_is_over(staff_user: Any) -> None:
    """Efter svarstiden, innan minutschemat stängt kampanjen, säger läget som den levande sidan ritar
    samma sak som den renderade sidan: "svarstiden har gått ut" (sidan skrev "tiden har passerat")."""
    deadline = NOW + timedelta(minutes=30)
    campaign = make_campaign(staff_user, slot_at=SLOT, answer_deadline=deadline)
    status_url = reverse("campaigns:snapshot", args=[campaign.pk])
    staff = Client()
    with time_machine.travel(deadline + timedelta(seconds=1), tick=False):
        staff.force_login(staff_user)
        shown = staff.get(status_url).json()["campaign"]
        page = staff.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert (shown["is_open"], shown["status_label"]) == (False, "svarstiden har gått ut")
    assert "Svarstiden har gått ut</span>" in page
