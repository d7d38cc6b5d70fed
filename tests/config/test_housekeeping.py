"""Städningen på schema (config/schedules.py): utgångna sessioner, django-axes rader, django-q2:s
sparade jobb och audit-händelser raderas när lagringstiden gått ut, och inget yngre.

Varje jobb körs som django-q2 kör det: funktionen som schemats rad pekar på, genom `async_task`.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from django_q.models import Schedule, Task
from django_q.tasks import async_task, fetch

from audit.models import Action, AuditEvent
from audit.services import record
from campaigns.apps import PURGE_SCHEDULE_NAME, REQUEUE_SCHEDULE_NAME
from config.schedules import (
    AUDIT_SCHEDULE_NAME,
    LEDGER_SCHEDULE_NAME,
    LOGIN_RECORDS_SCHEDULE_NAME,
    OPT_OUT_SCHEDULE_NAME,
    SESSIONS_SCHEDULE_NAME,
    TASK_RESULTS_SCHEDULE_NAME,
    register_housekeeping,
)
from smsportal.delivery import receive_report
from smsportal.models import DeliveryStatus, SendAttempt
from smsportal.sending import Purpose, send_and_record
from tests.accounts.test_login import login
from tests.accounts.test_security import manage, production_env
from tests.conftest import STAFF_PASSWORD

HOUSEKEEPING = {
    SESSIONS_SCHEDULE_NAME: ("accounts.sessions.clear_expired_sessions", Schedule.DAILY),
    LOGIN_RECORDS_SCHEDULE_NAME: ("accounts.lockout.purge_expired_login_records", Schedule.HOURLY),
    TASK_RESULTS_SCHEDULE_NAME: ("config.schedules.purge_task_results", Schedule.DAILY),
    AUDIT_SCHEDULE_NAME: ("audit.services.purge_audit_log", Schedule.DAILY),
    LEDGER_SCHEDULE_NAME: ("smsportal.ledger.purge_ledger", Schedule.DAILY),
    OPT_OUT_SCHEDULE_NAME: ("campaigns.optout.purge_opt_outs", Schedule.DAILY),
}
START = datetime.fromisoformat("2026-11-20 08:00+01:00")


def run_schedule(name: str) -> Task:
    """Kör schemats funktion som django-q2 gör (sökvägen i schemats rad) och returnerar jobbet."""
    schedule = Schedule.objects.get(name=name)
    task = fetch(async_task(schedule.func, sync=True))
    assert task is not None and task.success, task and task.result
    return task


def test_schedules_are_registered_once_with_swedish_names(db: Any) -> None:
    """migrate lägger in städningens scheman; fler registreringar ger fortfarande en rad per namn."""
    before = Schedule.objects.count()
    register_housekeeping()
    register_housekeeping()
    assert Schedule.objects.count() == before
    registered = {s.name: (s.func, s.schedule_type) for s in Schedule.objects.filter(name__in=HOUSEKEEPING)}
    assert registered == HOUSEKEEPING
    assert Schedule.objects.filter(name__in=[PURGE_SCHEDULE_NAME, REQUEUE_SCHEDULE_NAME]).count() == 2


def test_daily_schedules_run_at_night_and_migrate_does_not_move_them(db: Any) -> None:
    """De dagliga schemana körs kl. 03.00 svensk tid; en ny migrate flyttar inte nästa körning."""
    nightly = Schedule.objects.filter(name__in=HOUSEKEEPING, schedule_type=Schedule.DAILY)
    assert nightly.count() == 5
    for schedule in nightly:
        assert timezone.localtime(schedule.next_run).strftime("%H:%M") == "03:00"
    nightly.update(next_run=START)
    register_housekeeping()
    assert set(nightly.values_list("next_run", flat=True)) == {START}


def test_schedules_are_listed_in_admin(db: Any) -> None:
    """IT ser städningens scheman under django-q2:s scheman i Django admin."""
    superuser = get_user_model().objects.create_superuser("it", password=STAFF_PASSWORD)
    client = Client()
    client.force_login(superuser)
    page = client.get("/admin/django_q/schedule/").content.decode()
    for name in HOUSEKEEPING:
        assert name in page


def test_expired_sessions_are_cleared_and_live_ones_kept(staff_user: Any, admin_user: Any) -> None:
    """En session vars livstid (12 timmar) gått ut raderas; en yngre finns kvar."""
    early, late = Client(), Client()
    with time_machine.travel(START):
        early.force_login(staff_user)
    with time_machine.travel(START + timedelta(hours=6)):
        late.force_login(admin_user)
    assert Session.objects.count() == 2
    with time_machine.travel(START + timedelta(hours=11, minutes=59)):
        run_schedule(SESSIONS_SCHEDULE_NAME)
        assert Session.objects.count() == 2
    with time_machine.travel(START + timedelta(hours=12, minutes=1)):
        run_schedule(SESSIONS_SCHEDULE_NAME)
        assert list(Session.objects.values_list("session_key", flat=True)) == [late.session.session_key]


def attempts() -> set[str]:
    """Användarnamnen i django-axes försök (användarnamn + adress)."""
    return set(AccessAttempt.objects.values_list("username", flat=True))


def failures() -> list[str]:
    """Användarnamnen i django-axes fellogg, en rad per fel."""
    return sorted(AccessFailureLog.objects.values_list("username", flat=True))


def test_login_records_go_after_the_cool_off_and_the_failure_log_after_an_hour_more(
    staff_user: Any, admin_user: Any
) -> None:
    """Försöken raderas när spärren (15 min) släppt, felloggen en timme senare, även när ingen
    loggar in; en pågående spärr står kvar."""
    with time_machine.travel(START):
        for _ in range(5):
            login(Client(), "anna", "fel-lösenord", ip="10.0.0.1")
    with time_machine.travel(START + timedelta(minutes=10)):
        login(Client(), "chef", "fel-lösenord", ip="10.0.0.2")

    with time_machine.travel(START + timedelta(minutes=14)):
        run_schedule(LOGIN_RECORDS_SCHEDULE_NAME)
        assert attempts() == {"anna", "chef"}
        assert login(Client(), "anna", STAFF_PASSWORD, ip="10.0.0.1").status_code == 429  # fortfarande spärrad
    with time_machine.travel(START + timedelta(minutes=16)):
        run_schedule(LOGIN_RECORDS_SCHEDULE_NAME)
        assert attempts() == {"chef"}
        assert failures() == ["anna"] * 5 + ["chef"]
    with time_machine.travel(START + timedelta(minutes=76)):
        run_schedule(LOGIN_RECORDS_SCHEDULE_NAME)
        assert attempts() == set()
        assert failures() == ["chef"]
    with time_machine.travel(START + timedelta(minutes=86)):
        run_schedule(LOGIN_RECORDS_SCHEDULE_NAME)
        assert failures() == []


def failed_task() -> str:
    """Ett misslyckat jobb som django-q2 sparar det (i kön körs ett felande jobb aldrig synkront)."""
    now = timezone.now()
    task = Task.objects.create(
        id=uuid.uuid4().hex,
        name="misslyckat",
        func="campaigns.tasks.send_to_recipient",
        args=(1,),
        started=now,
        stopped=now,
        success=False,
        result="RuntimeError",
    )
    return task.id


def test_task_results_older_than_a_week_are_deleted(db: Any) -> None:
    """django-q2:s lyckade och misslyckade jobb raderas efter sju dagar; yngre finns kvar."""
    with time_machine.travel(START):
        old = [async_task("math.floor", 1.5, sync=True), failed_task()]
    with time_machine.travel(START + timedelta(days=6, hours=23)):
        newer = [async_task("math.floor", 2.5, sync=True), failed_task()]

    with time_machine.travel(START + timedelta(days=7, minutes=1)):
        own = run_schedule(TASK_RESULTS_SCHEDULE_NAME)
    assert set(Task.objects.values_list("id", flat=True)) == {*newer, own.id}
    assert not Task.objects.filter(id__in=old).exists()


def test_audit_events_older_than_the_retention_are_deleted(db: Any, settings: Any) -> None:
    """Audit-händelser äldre än AUDIT_RETENTION_DAYS raderas; yngre finns kvar."""
    settings.AUDIT_RETENTION_DAYS = 30
    with time_machine.travel(START):
        record(Action.SMS_SENT, actor_username="anna", provider="locmem", template_title="gammal")
    with time_machine.travel(START + timedelta(days=1)):
        record(Action.SMS_SENT, actor_username="anna", provider="locmem", template_title="ny")

    with time_machine.travel(START + timedelta(days=29, hours=23)):
        run_schedule(AUDIT_SCHEDULE_NAME)
        assert AuditEvent.objects.count() == 2
    with time_machine.travel(START + timedelta(days=30, minutes=1)):
        run_schedule(AUDIT_SCHEDULE_NAME)
    assert list(AuditEvent.objects.values_list("template_title", flat=True)) == ["ny"]


def test_sms_ledger_rows_older_than_the_retention_are_deleted(db: Any, settings: Any) -> None:
    """SMS-registret (med leveransstatus) har audit-loggens lagringstid; yngre rader finns kvar."""
    settings.AUDIT_RETENTION_DAYS = 30
    with time_machine.travel(START):
        old = send_and_record("+46701234567", "Hej", purpose=Purpose.TEST, actor_username="manage.py")
        receive_report("locmem", old.attempt.provider_message_id, DeliveryStatus.DELIVERED)
    with time_machine.travel(START + timedelta(days=1)):
        new = send_and_record("+46701234567", "Hej", purpose=Purpose.TEST, actor_username="manage.py")

    with time_machine.travel(START + timedelta(days=29, hours=23)):
        run_schedule(LEDGER_SCHEDULE_NAME)
        assert SendAttempt.objects.count() == 2
    with time_machine.travel(START + timedelta(days=30, minutes=1)):
        run_schedule(LEDGER_SCHEDULE_NAME)
    assert list(SendAttempt.objects.values_list("pk", flat=True)) == [new.attempt.pk]


def test_single_audit_rows_are_never_changed_or_deleted(db: Any) -> None:
    """Audit-loggen är append-only: en rad ändras inte och raderas inte en och en."""
    event = record(Action.LOGIN, actor_username="anna", status="ok")
    event.status = "ändrad"
    with pytest.raises(ValueError, match="ändras inte"):
        event.save()
    with pytest.raises(ValueError, match="raderas bara när lagringstiden gått ut"):
        event.delete()
    assert AuditEvent.objects.get().status == "ok"


def test_audit_retention_is_read_from_the_environment_and_checked() -> None:
    """Standard fem år; AUDIT_RETENTION_DAYS=0 stoppar starten med ett svenskt besked."""
    script = "from django.conf import settings; print(settings.AUDIT_RETENTION_DAYS)"
    default = manage("shell", "--no-imports", "-c", script, env=production_env())
    assert default.stdout.strip() == "1827", default.stderr
    read = manage("shell", "--no-imports", "-c", script, env=production_env(AUDIT_RETENTION_DAYS="400"))
    assert read.stdout.strip() == "400", read.stderr
    refused = manage("check", env=production_env(AUDIT_RETENTION_DAYS="0"))
    assert refused.returncode != 0 and "AUDIT_RETENTION_DAYS ska vara minst 1" in refused.stderr
