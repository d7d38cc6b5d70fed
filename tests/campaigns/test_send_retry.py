"""Kampanj-SMS när alla leverantörer är tillfälligt nere: nytt försök med ökande väntan, aldrig två SMS.

Leverantörerna är testbackends (`tests.fakes.backends`) som beter sig som en leverantör som är nere,
vägrar eller tiger; jobben och minutschemat körs som django-q2 kör dem (`send_all`,
`run_minute_schedule`) och klockan flyttas med time_machine. Samma sak med de riktiga SDK:erna mot
låtsasservrar prövas i `tests/faults/test_provider_outage.py`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, Recipient
from campaigns.phones import decrypt_phone
from campaigns.services import change_status
from campaigns.tasks import send_to_recipient
from smsportal.backends.base import SendResult, SmsError
from tests.campaigns.factories import PATIENTS, at, make_campaign, recipient, run_minute_schedule, send_all
from tests.fakes.backends import DownBackend

pytestmark = pytest.mark.django_db

DOWN = "tests.fakes.backends.DownBackend"


@pytest.fixture
def start() -> datetime:
    """Första sändförsöket: nästa hela minut plus 30 s (så att "kl hh:mm" blir entydigt)."""
    return timezone.now().replace(second=30, microsecond=0) + timedelta(minutes=1)


def clock(moment: datetime) -> str:
    """Tiden som personalen ser den, t.ex. "10:42"."""
    return f"{timezone.localtime(moment):%H:%M}"


def staff_sees(client: Client, campaign: Campaign) -> tuple[str, list[str]]:
    """Statusadressens (sidans polling) räknare "skickade/totalt" och sändstatus per rad."""
    data = client.get(reverse("campaigns:snapshot", args=[campaign.pk])).json()
    counts = data["counts"]
    return f"{counts['sent']}/{counts['total']}", [row["send_status"] for row in data["rows"]]


def test_outage_keeps_the_number_in_the_queue_and_shows_the_next_try(
    staff_user: Any, staff_client: Client, settings: Any, start: datetime, sms_outbox: list[Any]
) -> None:
    """Alla leverantörer nere: mottagaren står i kö till nästa försök om en minut, numret ligger kvar
    krypterat, och kampanjsidan (rad och statusadress) visar "försöker igen kl …" utan att räkna den skickad."""
    settings.SMS_PROVIDERS = [DOWN]
    with at(start):
        campaign = make_campaign(staff_user)
        send_all(campaign)
        counter, shown = staff_sees(staff_client, campaign)
        page = staff_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

    expected = f"försöker igen kl {clock(start + timedelta(minutes=1))}"
    assert counter == "0/3" and shown == [expected] * 3
    assert page.count(f"<td>{expected}</td>") == 3 and "Skickade 0/3" in page
    for name, phone, _ in PATIENTS:
        waiting = recipient(campaign, name)
        assert waiting.send_status == Recipient.SendStatus.QUEUED
        assert waiting.retry_at == start + timedelta(minutes=1) and waiting.first_failure_at == start
        assert decrypt_phone(waiting.phone_encrypted) == phone
    assert sms_outbox == []


def test_a_job_before_the_next_try_does_nothing_and_the_schedule_then_sends_once(
    staff_user: Any, settings: Any, start: datetime, sms_outbox: list[Any]
) -> None:
    """Jobb som levereras igen före nästa försök gör ingenting (inte ens avbryter); när tiden är
    inne skickar minutschemat varje SMS en gång, och fler jobb därefter skickar inget mer."""
    settings.SMS_PROVIDERS = [DOWN]
    with at(start):
        campaign = make_campaign(staff_user)
        send_all(campaign)
    settings.SMS_PROVIDERS = ["locmem"]  # leverantören är tillbaka
    with at(start + timedelta(seconds=59)):
        send_all(campaign)
        assert run_minute_schedule() == 0
    assert sms_outbox == []
    assert all(r.send_status == "queued" and r.phone_encrypted for r in campaign.recipients.all())

    with at(start + timedelta(minutes=1)):
        assert run_minute_schedule() == 3
        send_all(campaign)
    with at(start + timedelta(minutes=2)):
        run_minute_schedule()
        send_all(campaign)
    assert sorted(message.to for message in sms_outbox) == sorted(phone for _, phone, _ in PATIENTS)
    assert set(campaign.recipients.values_list("send_status", "phone_encrypted", "retry_at")) == {("sent", "", None)}


def test_backoff_then_failed_and_wiped_when_the_window_ends(
    staff_user: Any, staff_client: Client, settings: Any, start: datetime
) -> None:
    """Leverantören förblir nere: försök efter 0, 1, 3, 7, 11 och 15 minuter (väntan 1, 2, 4, 4, 4),
    numret kvar till sista försöket, sedan "misslyckades" och numret raderat."""
    settings.SMS_PROVIDERS = [DOWN]
    settings.CAMPAIGN_SEND_RETRY_MINUTES = 15
    with at(start):
        campaign = make_campaign(staff_user)
        send_all(campaign)
    anna = recipient(campaign, "Anna Andersson")
    tries, last = [0], (anna.send_status, anna.retry_at)
    for minute in range(1, 20):
        with at(start + timedelta(minutes=minute)):
            run_minute_schedule()
            send_all(campaign)  # jobb som kön levererar igen ändrar ingenting
        anna.refresh_from_db()
        if (anna.send_status, anna.retry_at) != last:
            tries.append(minute)
            last = (anna.send_status, anna.retry_at)
        if minute < 15:
            assert anna.send_status == "queued" and decrypt_phone(anna.phone_encrypted) == PATIENTS[0][1]
    assert tries == [0, 1, 3, 7, 11, 15]
    assert set(campaign.recipients.values_list("send_status", "phone_encrypted", "retry_at")) == {("failed", "", None)}
    with at(start + timedelta(minutes=20)):
        assert staff_sees(staff_client, campaign) == ("0/3", ["misslyckades"] * 3)


def test_no_retry_window_fails_at_once(staff_user: Any, settings: Any) -> None:
    """CAMPAIGN_SEND_RETRY_MINUTES=0: inget nytt försök, "misslyckades" och numret raderat direkt."""
    settings.SMS_PROVIDERS = [DOWN]
    settings.CAMPAIGN_SEND_RETRY_MINUTES = 0
    campaign = make_campaign(staff_user)
    send_all(campaign)
    assert set(campaign.recipients.values_list("send_status", "phone_encrypted")) == {("failed", "")}


@pytest.mark.parametrize(
    ("backend", "outcome"),
    [("tests.fakes.backends.RejectingBackend", "failed"), ("tests.fakes.backends.AmbiguousBackend", "uncertain")],
    ids=["permanent", "osäkert"],
)
def test_permanent_or_uncertain_outcome_is_never_retried(
    staff_user: Any, settings: Any, start: datetime, sms_outbox: list[Any], backend: str, outcome: str
) -> None:
    """Ett permanent fel eller ett osäkert utfall: slutstatus direkt, numret raderat, och inget nytt
    försök när en fungerande leverantör finns minuter senare."""
    settings.SMS_PROVIDERS = [backend]
    with at(start):
        campaign = make_campaign(staff_user)
        send_all(campaign)
    assert set(campaign.recipients.values_list("send_status", "phone_encrypted", "retry_at")) == {(outcome, "", None)}
    settings.SMS_PROVIDERS = ["locmem"]
    for minute in (1, 3, 7):
        with at(start + timedelta(minutes=minute)):
            run_minute_schedule()
            send_all(campaign)
    assert sms_outbox == []
    assert set(campaign.recipients.values_list("send_status", flat=True)) == {outcome}


@pytest.mark.parametrize("how", ["tillsatt", "avslutad", "tiden passerad", "tiden passerad, kön nere"])
def test_campaign_closed_while_waiting_cancels_and_wipes_the_numbers(
    staff_user: Any, staff_client: Client, settings: Any, start: datetime, sms_outbox: list[Any], how: str
) -> None:
    """Kampanjen tillsätts, avslutas eller tiden passerar medan mottagarna väntar på nytt försök (eller
    på ett jobb som aldrig kom): de avbryts, numret raderas inom minutschemats minut, inget SMS skickas."""
    settings.SMS_PROVIDERS = [DOWN]
    with at(start):
        campaign = make_campaign(staff_user, slot_at=start + timedelta(seconds=20))
        if how != "tiden passerad, kön nere":
            send_all(campaign)
    settings.SMS_PROVIDERS = ["locmem"]
    with at(start + timedelta(seconds=10)):
        if how in ("tillsatt", "avslutad"):
            status = Campaign.Status.FILLED if how == "tillsatt" else Campaign.Status.CLOSED
            assert change_status(campaign, staff_user, status)
    with at(start + timedelta(seconds=30)):
        run_minute_schedule()
        assert set(campaign.recipients.values_list("send_status", "phone_encrypted")) == {("cancelled", "")}
        assert staff_sees(staff_client, campaign) == ("0/3", ["ej skickat (kampanjen stängd)"] * 3)
    with at(start + timedelta(minutes=2)):
        run_minute_schedule()
        send_all(campaign)
    assert sms_outbox == []


class ClosingDownBackend(DownBackend):
    """Alla leverantörer nere, och personalen avslutar kampanjen medan försöket pågår."""

    def send(self, to: str, text: str) -> SendResult:
        """Avslutar alla aktiva kampanjer (som personalens knapp), kastar sedan ett tillfälligt fel."""
        Campaign.objects.filter(status=Campaign.Status.ACTIVE).update(status=Campaign.Status.CLOSED)
        raise SmsError(permanent=False, provider=self.name, reason="anslutningen nekades")


def test_campaign_closed_during_the_failing_try_cancels_at_once(staff_user: Any, settings: Any) -> None:
    """Stängs kampanjen medan det misslyckade försöket pågår går mottagaren inte tillbaka i kö:
    den avbryts och numret raderas direkt, utan att vänta på minutschemat."""
    settings.SMS_PROVIDERS = [f"{__name__}.ClosingDownBackend"]
    campaign = make_campaign(staff_user)
    anna = recipient(campaign, "Anna Andersson")
    send_to_recipient(anna.pk)
    anna.refresh_from_db()
    assert (anna.send_status, anna.phone_encrypted) == ("cancelled", "")
