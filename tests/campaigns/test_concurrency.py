"""Samtidighet mot PostgreSQL: tjugo JA i samma sekund ger exakt ett "Ring först", ett
sändjobb som levereras till flera arbetsprocesser samtidigt ger ett SMS, och personal som
trycker "Tiden är tillsatt" samtidigt ändrar kampanjen en gång."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone
from django_q.brokers import get_broker

from audit.models import Action, AuditEvent
from campaigns.models import Campaign, Recipient
from campaigns.services import AnswerOutcome, change_status, record_answer
from campaigns.tasks import send_to_recipient
from campaigns.waves import release_due_waves, release_wave
from tests.campaigns.factories import make_campaign
from tests.fakes.backends import SlowBackend

pytestmark = pytest.mark.django_db(transaction=True)
PATIENTS = 20


@pytest.fixture(autouse=True)
def empty_queue() -> Iterator[None]:
    """Kampanjerna här köar riktiga sändjobb efter commit: kön (Redis delas) töms efteråt."""
    yield
    get_broker().delete_queue()


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="radlåset på kampanjen prövas mot PostgreSQL (andra körningen i .ci/run); SQLite köar redan alla skrivningar",
)
def test_twenty_simultaneous_yes_give_exactly_one_first(staff_user: Any) -> None:
    """Alla svarar JA samtidigt: platserna blir 1..20 utan dubbletter, och exakt en är först."""
    patients = [(f"Patient {i}", f"+467012345{i:02d}", True) for i in range(PATIENTS)]
    campaign = make_campaign(staff_user, patients)
    recipients = list(campaign.recipients.all())
    outcomes: list[AnswerOutcome] = []
    errors: list[BaseException] = []
    start = threading.Barrier(PATIENTS)

    def answer(recipient: Recipient) -> None:
        """En patient som trycker JA samtidigt som de andra."""
        start.wait()
        try:
            outcomes.append(record_answer(recipient, Recipient.Answer.YES))
        except BaseException as error:  # noqa: BLE001 – felet ska synas i testet, inte försvinna i tråden
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=answer, args=(r,)) for r in recipients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(o.position for o in outcomes) == list(range(1, PATIENTS + 1))
    ranks = sorted(campaign.recipients.values_list("yes_rank", flat=True))
    assert ranks == list(range(1, PATIENTS + 1))


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="den villkorliga uppdateringen prövas mot PostgreSQL (andra körningen i .ci/run); SQLite köar redan alla skrivningar",
)
@override_settings(SMS_PROVIDERS=["tests.fakes.backends.SlowBackend"])
def test_two_workers_with_the_same_job_send_one_sms(staff_user: Any) -> None:
    """Kön levererar samma jobb till två arbetsprocesser samtidigt: ett SMS."""
    campaign = make_campaign(staff_user, [("Anna Andersson", "+46701234567", True)])
    recipient_id = campaign.recipients.get().pk
    SlowBackend.sent.clear()
    start = threading.Barrier(8)

    def worker() -> None:
        """En arbetsprocess som kör jobbet."""
        start.wait()
        try:
            send_to_recipient(recipient_id)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert SlowBackend.sent == ["+46701234567"]
    assert campaign.recipients.get().send_status == Recipient.SendStatus.SENT


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="den villkorliga uppdateringen prövas mot PostgreSQL (andra körningen i .ci/run); SQLite köar redan alla skrivningar",
)
def test_staff_pressing_filled_at_once_change_the_campaign_once(staff_user: Any) -> None:
    """Åtta i personalen trycker "Tiden är tillsatt" samtidigt: en ändrar och loggas, de andra får "redan stängd"."""
    campaign = make_campaign(staff_user)
    results: list[bool] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def press() -> None:
        """En i personalen som trycker samtidigt som de andra."""
        start.wait()
        try:
            results.append(change_status(Campaign.objects.get(pk=campaign.pk), staff_user, Campaign.Status.FILLED))
        except BaseException as error:  # noqa: BLE001 – felet ska synas i testet, inte försvinna i tråden
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=press) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(results) == [False] * 7 + [True]
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.FILLED
    assert AuditEvent.objects.filter(action=Action.CAMPAIGN_FILLED).count() == 1
    assert not campaign.recipients.filter(send_status=Recipient.SendStatus.QUEUED).exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="den villkorliga uppdateringen prövas mot PostgreSQL (andra körningen i .ci/run); SQLite köar redan alla skrivningar",
)
@pytest.mark.parametrize("who", ["schedule", "staff"])
def test_simultaneous_releases_send_one_wave(staff_user: Any, who: str) -> None:
    """Åtta minutscheman (eller åtta klick på "Skicka nästa grupp nu") samtidigt när grupp 2 är
    aktuell: exakt en grupp släpps, med exakt `wave_size` mottagare, och grupp 3 väntar kvar."""
    patients = [(f"Patient {i}", f"+467012345{i:02d}", False) for i in range(10)]
    campaign = make_campaign(staff_user, patients, wave_size=3, wave_minutes=1, pause_on_yes=False)
    Campaign.objects.filter(pk=campaign.pk).update(next_wave_at=timezone.now() - timedelta(seconds=1))
    released: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def release() -> None:
        """Ett schema eller ett klick samtidigt som de andra."""
        start.wait()
        try:
            if who == "schedule":
                released.append(release_due_waves())
            else:
                released.append(release_wave(campaign.pk, expected=1, actor=staff_user))
        except BaseException as error:  # noqa: BLE001 – felet ska synas i testet, inte försvinna i tråden
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=release) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(released) == [0] * 7 + [3]
    campaign.refresh_from_db()
    assert campaign.waves_sent == 2
    waves = list(campaign.recipients.order_by("pk").values_list("wave", flat=True))
    assert waves == [1, 1, 1, 2, 2, 2, None, None, None, None]
    assert AuditEvent.objects.filter(action=Action.CAMPAIGN_WAVE_SENT).count() == 2
