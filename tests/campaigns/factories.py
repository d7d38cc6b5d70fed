"""Hjälpare för kampanjtesterna: skapa en kampanj genom tjänsten, skicka, svara."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import time_machine
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.signing import SignedPackage

from campaigns.models import Campaign, Recipient
from campaigns.recipients import ParsedRecipient
from campaigns.services import create_campaign
from campaigns.tasks import requeue_stuck_work, send_to_recipient

PATIENTS = [
    ("Anna Andersson", "+46701234567", True),
    ("Karl Karlsson", "+46701234568", False),
    ("Lisa Larsson", "+46701234569", True),
]


def tomorrow_at(hour: int = 8, minute: int = 0) -> datetime:
    """I morgon kl hh:mm i klinikens tidszon."""
    day = timezone.localdate() + timedelta(days=1)
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


def make_campaign(
    user: Any,
    patients: list[tuple[str, str, bool]] | None = None,
    *,
    slot_at: datetime | None = None,
    operation_type: str = "axeloperation",
    **options: Any,
) -> Campaign:
    """En kampanj skapad som personalen skapar den (köade mottagare, inget skickat ännu).

    `options` går vidare till `create_campaign` (t.ex. answer_deadline, wave_size, wave_minutes).
    """
    recipients = [
        ParsedRecipient(line=line, name=name, phone=phone, consent=consent)
        for line, (name, phone, consent) in enumerate(patients or PATIENTS, start=1)
    ]
    creation = create_campaign(
        user=user,
        slot_at=slot_at or tomorrow_at(),
        operation_type=operation_type,
        recipients=recipients,
        request_id=str(uuid.uuid4()),
        **options,
    )
    return creation.campaign


def send_all(campaign: Campaign) -> None:
    """Kör sändjobbet för varje mottagare direkt (som en arbetsprocess i django-q2)."""
    for recipient_id in campaign.recipients.values_list("pk", flat=True):
        send_to_recipient(recipient_id)


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Klockan står stilla på `moment` (time_machine) medan blocket körs."""
    with time_machine.travel(moment, tick=False):
        yield


def run_minute_schedule() -> int:
    """django-q2:s minutschema en gång (`requeue_stuck_work`); sändjobben det köar körs direkt i
    processen, som av en arbetsprocess (django-q2 i SYNC-läge). Returnerar schemats antal."""
    synchronous = Conf.SYNC
    Conf.SYNC = True
    try:
        return requeue_stuck_work()
    finally:
        Conf.SYNC = synchronous


def recipient(campaign: Campaign, name: str) -> Recipient:
    """Mottagaren med namnet i kampanjen."""
    return campaign.recipients.get(name=name)


def drain_queue() -> list[dict[str, Any]]:
    """Tar alla paket ur django-q2:s kö (ORM i inbäddat läge, Redis annars), avkodade."""
    broker = get_broker()
    packages: list[dict[str, Any]] = []
    while broker.queue_size():
        for task_id, payload in broker.dequeue() or []:
            packages.append(SignedPackage.loads(payload))
            broker.acknowledge(task_id)
    return packages
