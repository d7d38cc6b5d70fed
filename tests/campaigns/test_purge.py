"""Radering efter CAMPAIGN_RETENTION_DAYS: django-q2-schemat och `manage.py purge_campaigns`."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import time_machine
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from audit.models import Action, AuditEvent
from campaigns.apps import PURGE_SCHEDULE_NAME, register_purge_schedule
from campaigns.models import Campaign, Recipient
from campaigns.services import purge_expired, record_answer
from tests.campaigns.factories import make_campaign, recipient, send_all, tomorrow_at


def test_schedule_is_registered_once_and_hourly(db: Any) -> None:
    """migrate lägger in schemat; fler körningar ger fortfarande ett enda schema."""
    assert Schedule.objects.filter(name=PURGE_SCHEDULE_NAME).count() == 1  # från testdatabasens migrate
    register_purge_schedule()
    register_purge_schedule()
    schedule = Schedule.objects.get(name=PURGE_SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type, schedule.repeats) == (
        "campaigns.services.purge_expired",
        Schedule.HOURLY,
        -1,
    )


def test_old_campaigns_are_deleted_with_recipients_and_only_counts_remain(staff_user: Any, settings: Any) -> None:
    """Efter 7 dagar: kampanj och mottagare borta; audit har antal och minuter till första JA."""
    settings.CAMPAIGN_RETENTION_DAYS = 7
    start = timezone.now()
    old = make_campaign(staff_user)
    send_all(old)
    with time_machine.travel(start + timedelta(minutes=12)):
        record_answer(recipient(old, "Karl Karlsson"), "yes")
    with time_machine.travel(start + timedelta(days=3)):
        newer = make_campaign(staff_user, slot_at=tomorrow_at())

    with time_machine.travel(start + timedelta(days=6, hours=23)):
        assert purge_expired() == 0
    with time_machine.travel(start + timedelta(days=7, minutes=1)):
        assert purge_expired() == 1

    assert list(Campaign.objects.all()) == [newer]
    assert not Recipient.objects.filter(campaign_id=old.pk).exists()
    event = AuditEvent.objects.get(action=Action.CAMPAIGN_PURGED)
    assert event.actor_username == "system" and event.actor is None
    assert event.data == {"kampanjer": 1, "mottagare": 3, "minuter_till_forsta_ja": [12.0]}
    assert "Karl" not in repr(list(AuditEvent.objects.values()))


def test_management_command_does_the_same_deletion(staff_user: Any) -> None:
    """`manage.py purge_campaigns` raderar likadant och säger hur många."""
    make_campaign(staff_user)
    out = StringIO()
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        call_command("purge_campaigns", stdout=out)
    assert out.getvalue().strip() == "Raderade 1 kampanj(er) äldre än 7 dagar."
    assert not Campaign.objects.exists() and not Recipient.objects.exists()


def test_purged_codes_get_the_unknown_page(staff_user: Any, client: Any) -> None:
    """En raderad kampanjs länk ger samma sida som en okänd kod."""
    campaign = make_campaign(staff_user)
    code = recipient(campaign, "Anna Andersson").code
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        purge_expired()
    purged = client.get(f"/s/{code}")
    unknown = client.get("/s/finnsInteAlls12345")
    assert purged.status_code == unknown.status_code == 404
    assert purged.content == unknown.content
