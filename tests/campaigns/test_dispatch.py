"""Sändningen med django-q2: en gång per mottagare, rätt variant, numret raderat efteråt."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import OrmQ, Task
from django_q.signing import SignedPackage

from campaigns.models import Campaign, Recipient
from campaigns.phones import phone_hash
from campaigns.services import change_status, purge_expired
from campaigns.tasks import send_to_recipient
from tests.campaigns.factories import drain_queue, make_campaign, recipient, send_all
from tests.privacy import cache_text, database_text, leaks, phone_forms

SENTINEL_PHONE = "+46709876543"


@pytest.fixture
def sync_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    """django-q2 kör jobben direkt i processen (som en arbetsprocess, med Task-rader i databasen)."""
    monkeypatch.setattr(Conf, "SYNC", True)


def test_dispatch_through_django_q_sends_the_right_variant_once_each(
    staff_client: Client, sms_outbox: list[Any], sync_tasks: None, django_capture_on_commit_callbacks: Any
) -> None:
    """Skicka i formuläret: ett SMS per mottagare med rätt variant; sedan bara hash och mask kvar."""
    data = {
        "slot_date": (timezone.localdate() + timedelta(days=1)).isoformat(),
        "slot_time": "08:00",
        "operation_type": "axeloperation",
        "recipients": "Anna Andersson, 070-123 45 67, ja\nKarl Karlsson, 070-123 45 68, nej",
        "skicka": "1",
    }
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("campaigns:list"), data)
    campaign = Campaign.objects.get()
    anna, karl = recipient(campaign, "Anna Andersson"), recipient(campaign, "Karl Karlsson")
    sent = {message.to: message.text for message in sms_outbox}
    assert len(sms_outbox) == 2
    assert sent["+46701234567"].startswith("Hej Anna! En operationstid för din axeloperation har blivit ledig imorgon")
    assert f"testserver/s/{anna.code}" in sent["+46701234567"]
    assert sent["+46701234568"].startswith("Hej! En tid har blivit ledig imorgon.")
    assert f"testserver/s/{karl.code}" in sent["+46701234568"]
    assert "Karl" not in sent["+46701234568"] and "axel" not in sent["+46701234568"]
    for person, phone in ((anna, "+46701234567"), (karl, "+46701234568")):
        assert person.send_status == Recipient.SendStatus.SENT and person.sent_at is not None
        assert person.phone_encrypted == ""
        assert person.phone_hash == phone_hash(phone) and person.phone_masked == "070-123 ****"
        assert person.provider == "locmem" and person.provider_message_id.startswith("locmem-")
    # Lyckade sändjobb sparas inte i django-q2:s tabell: utfallet står på mottagaren och i SMS-registret.
    assert not Task.objects.filter(func="campaigns.tasks.send_to_recipient").exists()
    page = staff_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "Skickade 2/2" in page


def test_a_recipient_is_sent_at_most_once(staff_user: Any, sms_outbox: list[Any]) -> None:
    """Samma jobb två gånger (omleverans från kön): ett SMS."""
    campaign = make_campaign(staff_user)
    send_all(campaign)
    send_all(campaign)
    assert len(sms_outbox) == 3


def test_killed_worker_never_sends_twice_and_shows_uncertain(
    staff_user: Any, sms_outbox: list[Any], staff_client: Client
) -> None:
    """En arbetsprocess dog efter att ha tagit mottagaren: aldrig igen, osäkert efter en minut."""
    campaign = make_campaign(staff_user)
    anna = recipient(campaign, "Anna Andersson")
    # Simulerar en process som hann ta mottagaren (queued → sending) och sedan dödades.
    Recipient.objects.filter(pk=anna.pk).update(
        send_status=Recipient.SendStatus.SENDING, send_started_at=timezone.now()
    )
    send_all(campaign)  # kön levererar jobben igen
    assert sorted(m.to for m in sms_outbox) == ["+46701234568", "+46701234569"]
    anna.refresh_from_db()
    assert anna.send_status == Recipient.SendStatus.SENDING
    assert anna.shown_send_status == "skickas"
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        anna.refresh_from_db()
        assert anna.shown_send_status == "osäkert"
        page = staff_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
        assert "<td>osäkert</td>" in page
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        purge_expired()  # timjobbet raderar numret som aldrig kommer att skickas
    anna.refresh_from_db()
    assert anna.phone_encrypted == "" and anna.send_status == Recipient.SendStatus.SENDING


def test_closed_or_passed_campaign_sends_nothing(staff_user: Any, sms_outbox: list[Any]) -> None:
    """Kön kom i gång först efter att tiden tillsatts eller passerat: inget SMS, numret raderas."""
    filled = make_campaign(staff_user)
    change_status(filled, staff_user, Campaign.Status.FILLED)
    passed = make_campaign(staff_user, [("Olle Olsson", "+46701234570", False)])
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        send_all(filled)
        send_all(passed)
    assert sms_outbox == []
    for recipient_ in Recipient.objects.all():
        assert recipient_.send_status == Recipient.SendStatus.CANCELLED and recipient_.phone_encrypted == ""


@override_settings(SMS_PROVIDERS=["tests.fakes.backends.RejectingBackend"])
def test_refused_send_is_failed_and_wiped(staff_user: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Leverantören vägrar: status misslyckades, numret raderat, loggen utan nummer."""
    campaign = make_campaign(staff_user)
    send_all(campaign)
    assert set(campaign.recipients.values_list("send_status", "phone_encrypted")) == {("failed", "")}
    assert leaks(phone_forms("+46701234567"), loggar=caplog.text) == []


@override_settings(SMS_PROVIDERS=["tests.fakes.backends.AmbiguousBackend"])
def test_ambiguous_send_is_uncertain(staff_user: Any) -> None:
    """Ingen svar från leverantören efter sändning: osäkert, aldrig omsänt."""
    campaign = make_campaign(staff_user)
    send_all(campaign)
    assert set(campaign.recipients.values_list("send_status", "phone_encrypted")) == {("uncertain", "")}


def test_unexpected_error_is_uncertain_and_wiped(
    staff_user: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Ett oväntat fel (t.ex. felaktig inställning) lämnar inget nummer och ingen feltext efter sig."""

    def broken(to: str, text: str) -> None:
        """Ett fel vars text ekar numret."""
        raise RuntimeError(f"trasig för {to}")

    monkeypatch.setattr("smsportal.sending.send_sms", broken)
    campaign = make_campaign(staff_user)
    send_to_recipient(recipient(campaign, "Anna Andersson").pk)
    anna = recipient(campaign, "Anna Andersson")
    assert (anna.send_status, anna.phone_encrypted) == ("uncertain", "")
    assert "RuntimeError" in caplog.text
    assert leaks(phone_forms("+46701234567"), loggar=caplog.text) == []


def django_q_text() -> str:
    """django-q2:s tabeller avkodade: jobbens namn, argument och resultat, och ORM-köns paket."""
    tasks = [repr((t.name, t.func, t.args, t.kwargs, t.result)) for t in Task.objects.all()]
    queued = [repr(SignedPackage.loads(q.payload)) for q in OrmQ.objects.all()]
    return "\n".join(tasks + queued)


@pytest.mark.parametrize("sync", [True, False], ids=["kort-direkt", "i-kon"])
def test_canary_number_is_nowhere_after_sending(
    staff_client: Client,
    sms_outbox: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    sync: bool,
) -> None:
    """Efter sändningen finns kanarienumret varken i databasen (django-q2 med), cachen eller loggarna."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(Conf, "SYNC", sync)
    get_broker().delete_queue()  # inga paket kvar från tidigare körningar (Redis delas)
    data = {
        "slot_date": (timezone.localdate() + timedelta(days=1)).isoformat(),
        "slot_time": "09:15",
        "recipients": "Kanarie Fågel, 070-987 65 43, ja\nKarl Karlsson, 070-123 45 68",
    }
    url = reverse("campaigns:list")
    staff_client.post(url, data)  # förhandsgranskning
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(url, {**data, "skicka": "1"})
    if not sync:
        packages = drain_queue()
        assert [p["func"] for p in packages] == ["campaigns.tasks.send_to_recipient"] * 2
        assert leaks(phone_forms(SENTINEL_PHONE), ko=repr(packages)) == []
        for package in packages:
            send_to_recipient(*package["args"])
    campaign = Campaign.objects.get()
    staff_client.get(reverse("campaigns:detail", args=[campaign.pk]))

    assert sorted(m.to for m in sms_outbox) == ["+46701234568", SENTINEL_PHONE]
    canary = recipient(campaign, "Kanarie Fågel")
    assert canary.phone_hash == phone_hash(SENTINEL_PHONE) and canary.phone_masked == "070-987 ****"
    out, err = capfd.readouterr()
    assert (
        leaks(
            phone_forms(SENTINEL_PHONE),
            databas=database_text(),
            django_q=django_q_text(),
            cache=cache_text(),
            loggar=caplog.text,
            utskrift=out + err,
        )
        == []
    )


class FakeClock:
    """En klocka för `campaigns.dispatch`: sleep flyttar tiden framåt och sparas."""

    def __init__(self) -> None:
        """Börjar på 1000 s (som time.monotonic) utan några väntetider."""
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """Nuvarande tid."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Väntar (flyttar klockan) och sparar väntetiden."""
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Sändjobbens klocka (bara i campaigns.dispatch) utbytt, och arbetsprocessens bokade sändtid nollställd."""
    from campaigns import dispatch

    clock = FakeClock()
    monkeypatch.setattr(dispatch, "monotonic", clock.monotonic)
    monkeypatch.setattr(dispatch, "sleep", clock.sleep)
    monkeypatch.setattr(dispatch, "_next_send_slot", 0.0)
    return clock


def test_provider_rate_limit_spaces_the_sends(
    staff_user: Any, sms_outbox: list[Any], settings: Any, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """5 SMS/s för ett kluster med 2 arbetsprocesser: varje process skickar högst ett SMS per 0,4 s."""
    settings.CAMPAIGN_SMS_PER_SECOND = 5
    monkeypatch.setattr(Conf, "WORKERS", 2)
    campaign = make_campaign(staff_user)
    people = list(campaign.recipients.order_by("pk"))
    for person in people:
        send_to_recipient(person.pk)
    assert len(sms_outbox) == len(people) == 3
    assert fake_clock.sleeps == [0.4, 0.4]  # den första direkt, sedan 0,4 s mellan varje
    # Dubblettjobb (mottagaren redan skickad) väntar inte och skickar inget.
    for person in people:
        send_to_recipient(person.pk)
    assert len(sms_outbox) == 3 and fake_clock.sleeps == [0.4, 0.4]

    # Efter en paus längre än intervallet skickas nästa direkt.
    fake_clock.now += 10
    later = make_campaign(staff_user, [("Extra Person", "+46701234570", True)])
    send_to_recipient(later.recipients.get().pk)
    assert len(sms_outbox) == 4
    assert fake_clock.sleeps == [0.4, 0.4]


def test_no_rate_limit_never_waits(
    staff_user: Any, sms_outbox: list[Any], settings: Any, fake_clock: FakeClock
) -> None:
    """CAMPAIGN_SMS_PER_SECOND=0: ingen gräns, ingen väntan."""
    settings.CAMPAIGN_SMS_PER_SECOND = 0
    campaign = make_campaign(staff_user)
    for person in campaign.recipients.all():
        send_to_recipient(person.pk)
    assert len(sms_outbox) == 3 and fake_clock.sleeps == []


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "CAMPAIGN_SMS_PER_SECOND",
            "-1",
            "CAMPAIGN_SMS_PER_SECOND ska vara 0 (ingen gräns) eller minst Q_WORKERS / 60",
        ),
        (
            "CAMPAIGN_SMS_PER_SECOND",
            "0.01",
            "CAMPAIGN_SMS_PER_SECOND ska vara 0 (ingen gräns) eller minst Q_WORKERS / 60",
        ),
    ],
    ids=["gräns-negativ", "gräns-för-låg"],
)
def test_impossible_dispatch_setting_stops_the_start(name: str, value: str, message: str) -> None:
    """En negativ gräns, eller en så låg att väntan närmar sig jobbens tidsgräns, stoppar starten
    på svenska."""
    from django.conf import settings as django_settings

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=django_settings.BASE_DIR,
        env={**os.environ, name: value},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert message in result.stderr
