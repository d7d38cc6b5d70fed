"""CAMPAIGN_KEEP_YES_NUMBERS: av (förstudiens regel) finns inget nummer efter sändningen; på finns
bara JA-patienternas nummer, krypterat, tills kampanjen tar slut. "Visa nummer" skrivs i
åtkomstloggen; tack-SMS:et till övriga JA visar antal och kostnad och skickas en gång."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, AccessKind, Action, AuditEvent
from campaigns.messages import short_date
from campaigns.models import Campaign, Recipient
from campaigns.outcomes import record_call_outcome
from campaigns.phones import decrypt_phone
from campaigns.services import change_status, purge_expired, record_answer
from campaigns.yes_numbers import THANKS_WINDOW
from smsportal.backends.base import SmsError
from smsportal.backends.locmem import LocmemBackend
from smsportal.models import SendAttempt
from tests.campaigns.factories import at, make_campaign, recipient, run_minute_schedule, send_all
from tests.privacy import database_text, leaks, phone_pattern

PATIENTS = [
    ("Anna Andersson", "+46701234567", True),
    ("Karl Karlsson", "+46701234568", False),
    ("Lisa Larsson", "+46701234569", True),
    ("Olle Olsson", "+46701234570", False),
]
NUMBERS = {name: phone for name, phone, _ in PATIENTS}


@pytest.fixture
def keep(settings: Any) -> Any:
    """Kliniken har valt att spara JA-patienternas nummer."""
    settings.CAMPAIGN_KEEP_YES_NUMBERS = True
    return settings


def kept_numbers(campaign: Campaign) -> dict[str, str]:
    """Namn → dekrypterat nummer för mottagarna vars krypterade nummer finns kvar."""
    rows = Recipient.objects.filter(campaign=campaign).exclude(phone_encrypted="")
    return {r.name: decrypt_phone(r.phone_encrypted) for r in rows}


def no_plain_number_in_database() -> bool:
    """Inget av numren finns i klartext någonstans i databasen (krypterat är tillåtet)."""
    return leaks([phone_pattern(phone) for phone in NUMBERS.values()], database=database_text()) == []


def answered(user: Any) -> Campaign:
    """Skickad kampanj: Lisa och Anna JA (i den ordningen), Karl NEJ, Olle har inte svarat."""
    campaign = make_campaign(user, PATIENTS)
    send_all(campaign)
    record_answer(recipient(campaign, "Lisa Larsson"), Recipient.Answer.YES)
    record_answer(recipient(campaign, "Anna Andersson"), Recipient.Answer.YES)
    record_answer(recipient(campaign, "Karl Karlsson"), Recipient.Answer.NO)
    return campaign


def reveal(client: Client, campaign: Campaign, name: str, json: bool = True) -> Any:
    """Trycker "Visa nummer" på patientens rad (som sidans skript, eller utan skript)."""
    headers = {"Accept": "application/json"} if json else {}
    url = reverse("campaigns:reveal", args=[campaign.pk])
    return client.post(url, {"recipient": recipient(campaign, name).pk}, headers=headers)


def test_default_keeps_no_number_after_sending(staff_client: Client, staff_user: Any) -> None:
    """Av (standard): inget nummer efter sändningen, ingen "Visa nummer", inget tack-SMS."""
    campaign = answered(staff_user)
    assert kept_numbers(campaign) == {}
    assert no_plain_number_in_database()
    html = staff_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "Visa nummer" not in html and "hela numret raderas när SMS:et är skickat" in html
    response = reveal(staff_client, campaign, "Lisa Larsson")
    assert response.status_code == 404 and "Numret finns inte längre" in response.json()["error"]
    assert not AccessEvent.objects.filter(kind=AccessKind.PHONE_REVEAL).exists()
    post_outcome(staff_client, campaign, "Lisa Larsson", "booked")
    assert staff_client.get(reverse("campaigns:snapshot", args=[campaign.pk])).json()["campaign"]["thanks"] is None


def test_keep_on_only_ja_numbers_stay_encrypted_while_active(keep: Any, staff_user: Any) -> None:
    """På: efter sändningen väntar numren på svaret; NEJ raderar direkt; JA ligger kvar krypterat."""
    campaign = make_campaign(staff_user, PATIENTS)
    send_all(campaign)
    assert set(kept_numbers(campaign)) == set(NUMBERS)  # obesvarade: tills svaret kommer
    record_answer(recipient(campaign, "Lisa Larsson"), Recipient.Answer.YES)
    record_answer(recipient(campaign, "Karl Karlsson"), Recipient.Answer.NO)
    assert kept_numbers(campaign) == {n: NUMBERS[n] for n in ("Anna Andersson", "Lisa Larsson", "Olle Olsson")}
    # Lisa ändrar sig till NEJ: numret raderas; minutschemat rör inte en aktiv kampanjs JA.
    record_answer(recipient(campaign, "Anna Andersson"), Recipient.Answer.YES)
    record_answer(recipient(campaign, "Lisa Larsson"), Recipient.Answer.NO)
    run_minute_schedule()
    assert kept_numbers(campaign) == {n: NUMBERS[n] for n in ("Anna Andersson", "Olle Olsson")}
    assert no_plain_number_in_database()


def test_failed_send_keeps_no_number_even_with_keep_on(
    keep: Any, staff_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ett SMS som inte gick iväg får aldrig något svar: numret raderas direkt."""

    def refuse(self: Any, to: str, text: str) -> Any:
        """Leverantören vägrar numret."""
        raise SmsError("Ogiltigt nummer.", permanent=True, reason="ogiltigt nummer")

    monkeypatch.setattr(LocmemBackend, "send", refuse)
    campaign = make_campaign(staff_user, PATIENTS[:1])
    send_all(campaign)
    assert recipient(campaign, "Anna Andersson").send_status == Recipient.SendStatus.FAILED
    assert kept_numbers(campaign) == {}


def close_button(client: Client, campaign: Campaign) -> None:
    """ "Avsluta"."""
    client.post(reverse("campaigns:close", args=[campaign.pk]))


def deadline_passes(client: Client, campaign: Campaign) -> None:
    """Svarstiden passerar (kampanjen är fortfarande aktiv tills den stängs) och minutschemat körs."""
    Campaign.objects.filter(pk=campaign.pk).update(answer_deadline=timezone.now() - timedelta(seconds=1))
    run_minute_schedule()


def slot_passes(client: Client, campaign: Campaign) -> None:
    """Tiden passerar och minutschemat körs."""
    with at(campaign.slot_at + timedelta(minutes=1)):
        run_minute_schedule()


def hourly_job_after_slot(client: Client, campaign: Campaign) -> None:
    """Tiden passerar och bara timjobbet (raderingen) körs."""
    with at(campaign.slot_at + timedelta(minutes=1)):
        purge_expired()


def purged(client: Client, campaign: Campaign) -> None:
    """Kampanjen raderas efter CAMPAIGN_RETENTION_DAYS."""
    with at(timezone.now() + timedelta(days=8)):
        purge_expired()


@pytest.mark.parametrize("end", [close_button, deadline_passes, slot_passes, hourly_job_after_slot, purged])
def test_every_end_of_the_campaign_wipes_every_number(
    keep: Any, staff_client: Client, staff_user: Any, end: Callable[[Client, Campaign], None]
) -> None:
    """Avsluta, svarstid, passerad tid (minutschemat och timjobbet), radering: inga nummer kvar."""
    campaign = answered(staff_user)
    assert set(kept_numbers(campaign)) == {"Lisa Larsson", "Anna Andersson", "Olle Olsson"}
    end(staff_client, campaign)
    assert not Recipient.objects.exclude(phone_encrypted="").exists()
    assert no_plain_number_in_database()


def post_outcome(client: Client, campaign: Campaign, name: str, outcome: str) -> Any:
    """Trycker en samtalsknapp på patientens rad."""
    data = {"recipient": recipient(campaign, name).pk, "outcome": outcome}
    return client.post(reverse("campaigns:outcome", args=[campaign.pk]), data, follow=True)


def test_booked_keeps_only_the_other_ja_numbers_for_the_thanks_and_not_for_long(
    keep: Any, staff_client: Client, staff_user: Any
) -> None:
    """ "Bokad": den bokades, NEJ och obesvarade raderas direkt; övriga JA högst THANKS_WINDOW."""
    campaign = answered(staff_user)
    post_outcome(staff_client, campaign, "Lisa Larsson", "booked")
    assert kept_numbers(campaign) == {"Anna Andersson": NUMBERS["Anna Andersson"]}
    run_minute_schedule()
    assert kept_numbers(campaign) == {"Anna Andersson": NUMBERS["Anna Andersson"]}
    with at(timezone.now() + THANKS_WINDOW + timedelta(seconds=1)):
        run_minute_schedule()
    assert kept_numbers(campaign) == {}


def test_fill_without_booking_keeps_the_ja_numbers_for_the_thanks(
    keep: Any, staff_client: Client, staff_user: Any
) -> None:
    """ "Tiden är tillsatt" (utanför listan): alla JA kan få tack-SMS:et; obesvarade raderas."""
    campaign = answered(staff_user)
    staff_client.post(reverse("campaigns:fill", args=[campaign.pk]))
    assert set(kept_numbers(campaign)) == {"Lisa Larsson", "Anna Andersson"}


def test_show_number_writes_an_access_event_every_time(
    keep: Any, staff_client: Client, staff_user: Any, admin_client_: Client
) -> None:
    """ "Visa nummer" på en JA-rad: numret, aldrig cachat, och en rad i åtkomstloggen per visning."""
    campaign = answered(staff_user)
    html = staff_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert html.count(">Visa nummer</button>") == 2  # Lisa och Anna, inte Karl (NEJ) eller Olle (ej svarat)
    lisa = recipient(campaign, "Lisa Larsson")
    first = reveal(staff_client, campaign, "Lisa Larsson")
    assert first.json() == {"id": lisa.pk, "phone": "070-123 45 69"}
    assert "no-store" in first["Cache-Control"]
    page = reveal(staff_client, campaign, "Lisa Larsson", json=False)
    assert "070-123 45 69" in page.content.decode() and "no-store" in page["Cache-Control"]
    events = AccessEvent.objects.filter(kind=AccessKind.PHONE_REVEAL)
    assert [(e.actor_username, e.campaign_id, e.recipient_id) for e in events] == [
        ("anna", campaign.pk, lisa.pk),
        ("anna", campaign.pk, lisa.pk),
    ]
    access_page = admin_client_.get(reverse("audit:access")).content.decode()
    assert f"Visat nummer till JA-patient (mottagare {lisa.pk})" in access_page
    # Olle har inte svarat JA: inget nummer, ingen rad; en GET ändrar och visar ingenting.
    assert reveal(staff_client, campaign, "Olle Olsson").status_code == 404
    assert staff_client.get(reverse("campaigns:reveal", args=[campaign.pk])).status_code == 405
    assert events.count() == 2
    snapshot = staff_client.get(reverse("campaigns:snapshot", args=[campaign.pk])).json()
    assert {r["name"]: r["can_reveal"] for r in snapshot["rows"]} == {
        "Lisa Larsson": True,
        "Anna Andersson": True,
        "Karl Karlsson": False,
        "Olle Olsson": False,
    }
    assert "070-123 45 69" not in str(snapshot)


def thanks_campaign(user: Any, client: Client) -> Campaign:
    """Lisa bokad; Anna och Olle JA (får tack-SMS); Karl JA men tackade nej i telefon."""
    campaign = make_campaign(user, PATIENTS)
    send_all(campaign)
    for name in ("Lisa Larsson", "Anna Andersson", "Olle Olsson", "Karl Karlsson"):
        record_answer(recipient(campaign, name), Recipient.Answer.YES)
    record_call_outcome(campaign, recipient(campaign, "Karl Karlsson").pk, "declined", user)
    post_outcome(client, campaign, "Lisa Larsson", "booked")
    return campaign


def test_thanks_shows_count_and_cost_before_confirming_and_sends_once(
    keep: Any, staff_client: Client, staff_user: Any, sms_outbox: list[Any]
) -> None:
    """Tack-SMS:et: antal, delar och kostnad visas; det skickas en gång per patient, numren raderas."""
    campaign = thanks_campaign(staff_user, staff_client)
    sms_outbox.clear()
    html = staff_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "2 SMS (2 SMS-delar), uppskattad kostnad 0,70 kr." in html
    assert 'data-confirm="Skicka tack-SMS till 2 patienter? 2 SMS (2 SMS-delar), uppskattad kostnad 0,70 kr."' in html
    snapshot = staff_client.get(reverse("campaigns:snapshot", args=[campaign.pk])).json()
    assert snapshot["campaign"]["thanks"] == {"count": 2, "segments": 2, "cost": "0,70"}

    url = reverse("campaigns:thanks", args=[campaign.pk])
    response = staff_client.post(url, {"val": "skicka"}, follow=True)
    assert "Tack-SMS skickat till 2 patienter. Numren är raderade." in response.content.decode()
    # Tiden och avsändaren står i SMS:et: det kan komma långt efter förfrågan.
    slot = timezone.localtime(campaign.slot_at)
    expected = (
        f"Den lediga tiden {short_date(slot.date())} kl {slot:%H:%M} är nu tillsatt. Din ordinarie tid kvarstår. "
        f"Tack för att du svarade!\n{settings.SMS_SIGNATURE}"
    )
    assert sorted((m.to, m.text) for m in sms_outbox) == [
        (NUMBERS["Anna Andersson"], expected),
        (NUMBERS["Olle Olsson"], expected),
    ]
    assert kept_numbers(campaign) == {}
    attempts = SendAttempt.objects.filter(campaign_id=campaign.pk, actor=staff_user)
    assert [(a.purpose, a.status) for a in attempts] == [("campaign", "sent"), ("campaign", "sent")]
    event = AuditEvent.objects.get(action=Action.CAMPAIGN_THANKS)
    assert event.data == {"kampanj": campaign.pk, "skickade": 2, "misslyckade": 0}
    again = staff_client.post(url, {"val": "skicka"}, follow=True)
    assert "Det finns inga tack-SMS att skicka" in again.content.decode()
    assert len(sms_outbox) == 2
    html = again.content.decode()
    assert 'data-testid="tack-sms" hidden' in html


def test_thanks_reports_failures(
    keep: Any, staff_client: Client, staff_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ett tack-SMS som inte går iväg syns i beskedet och i audit; numret raderas ändå."""
    campaign = thanks_campaign(staff_user, staff_client)
    original = LocmemBackend.send

    def refuse_olle(self: Any, to: str, text: str) -> Any:
        """Leverantören vägrar Olles nummer."""
        if to == NUMBERS["Olle Olsson"]:
            raise SmsError("Ogiltigt nummer.", permanent=True, reason="ogiltigt nummer")
        return original(self, to, text)

    monkeypatch.setattr(LocmemBackend, "send", refuse_olle)
    response = staff_client.post(reverse("campaigns:thanks", args=[campaign.pk]), {"val": "skicka"}, follow=True)
    assert "Tack-SMS skickat till 1 av 2 patienter; resten misslyckades." in response.content.decode()
    assert AuditEvent.objects.get(action=Action.CAMPAIGN_THANKS).data["misslyckade"] == 1
    assert kept_numbers(campaign) == {}


def test_no_thanks_wipes_the_numbers_without_sending(
    keep: Any, staff_client: Client, staff_user: Any, sms_outbox: list[Any]
) -> None:
    """ "Skicka inget": numren raderas direkt och inget SMS skickas."""
    campaign = thanks_campaign(staff_user, staff_client)
    sms_outbox.clear()
    url = reverse("campaigns:thanks", args=[campaign.pk])
    odd = staff_client.post(url, {"val": "kanske"}, follow=True)
    assert "Okänt val." in odd.content.decode() and set(kept_numbers(campaign)) == {"Anna Andersson", "Olle Olsson"}
    response = staff_client.post(url, {"val": "inget"}, follow=True)
    assert "Inget tack-SMS skickas." in response.content.decode()
    assert kept_numbers(campaign) == {} and sms_outbox == []


def test_thanks_is_only_offered_for_a_filled_campaign(keep: Any, staff_client: Client, staff_user: Any) -> None:
    """En aktiv kampanj har inget tack-SMS: ett påhittat POST skickar ingenting."""
    campaign = answered(staff_user)
    response = staff_client.post(reverse("campaigns:thanks", args=[campaign.pk]), {"val": "skicka"}, follow=True)
    assert "Det finns inga tack-SMS att skicka" in response.content.decode()
    assert set(kept_numbers(campaign)) == {"Lisa Larsson", "Anna Andersson", "Olle Olsson"}
    assert change_status(campaign, staff_user, Campaign.Status.CLOSED)
    assert kept_numbers(campaign) == {}


@pytest.mark.parametrize("keep_numbers", [False, True])
def test_data_protection_page_states_the_rule_in_force(client: Client, settings: Any, keep_numbers: bool) -> None:
    """Dataskyddssidan säger vilken regel kliniken valt (läser inställningen)."""
    settings.CAMPAIGN_KEEP_YES_NUMBERS = keep_numbers
    html = client.get("/dataskydd/").content.decode()
    kept = "Svarar du <strong>ja</strong> sparas numret krypterat tills förfrågan är avslutad"
    only_until_sent = "Ditt mobilnummer sparas krypterat bara tills SMS:et har skickats."
    assert (kept in html) is keep_numbers
    assert (only_until_sent in html) is not keep_numbers


def test_number_sent_after_the_campaign_ended_is_wiped_at_once(keep: Any, staff_user: Any) -> None:
    """Kampanjen stängs medan SMS:et är på väg: numret raderas när sändningen är klar, inte en minut senare."""
    from campaigns import dispatch

    campaign = make_campaign(staff_user, PATIENTS[:1])
    anna = recipient(campaign, "Anna Andersson")
    assert dispatch._claim(anna.pk)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CLOSED)
    dispatch._send(Recipient.objects.select_related("campaign").get(pk=anna.pk))
    assert recipient(campaign, "Anna Andersson").send_status == Recipient.SendStatus.SENT
    assert kept_numbers(campaign) == {}
