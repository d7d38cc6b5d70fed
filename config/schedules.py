"""Portalens städning på schema (django-q2), registrerad med `common.schedules.register_schedule()`.

Städningens funktioner ligger hos appen som äger uppgifterna; här står bara när de körs (som
sökvägar, utan import), och raderingen av django-q2:s egna sparade jobb.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from common.schedules import register_schedule

SESSIONS_SCHEDULE_NAME = "Radera utgångna inloggningssessioner"
LOGIN_RECORDS_SCHEDULE_NAME = "Radera inloggningsförsök och fellogg efter spärrtiden"
TASK_RESULTS_SCHEDULE_NAME = "Radera bakgrundsjobbens resultat efter en vecka"
AUDIT_SCHEDULE_NAME = "Radera audit-händelser äldre än lagringstiden"
LEDGER_SCHEDULE_NAME = "Radera SMS-registrets rader äldre än lagringstiden"
OPT_OUT_SCHEDULE_NAME = "Radera avböjda förfrågningar (opt-out) äldre än lagringstiden"

#: Bakgrundsjobbens resultat (funktionens namn, id:n, utfall) sparas så här länge: en misslyckad
#: körning ska IT hinna se under en arbetsvecka. Inga persondata (jobben tar bara id:n).
TASK_RESULT_RETENTION = timedelta(days=7)


def register_housekeeping(**kwargs: Any) -> None:
    """Registrerar städningens scheman (efter varje migrate; se README, Städning)."""
    from django_q.models import Schedule

    register_schedule(SESSIONS_SCHEDULE_NAME, "accounts.sessions.clear_expired_sessions", Schedule.DAILY)
    # Varje timme, så att felloggen sparas högst en timme plus spärrtiden och en timme till.
    register_schedule(LOGIN_RECORDS_SCHEDULE_NAME, "accounts.lockout.purge_expired_login_records", Schedule.HOURLY)
    register_schedule(TASK_RESULTS_SCHEDULE_NAME, "config.schedules.purge_task_results", Schedule.DAILY)
    register_schedule(AUDIT_SCHEDULE_NAME, "audit.services.purge_audit_log", Schedule.DAILY)
    register_schedule(LEDGER_SCHEDULE_NAME, "smsportal.ledger.purge_ledger", Schedule.DAILY)
    register_schedule(OPT_OUT_SCHEDULE_NAME, "campaigns.optout.purge_opt_outs", Schedule.DAILY)


def purge_task_results(now: datetime | None = None) -> int:
    """Raderar django-q2:s sparade jobb (lyckade och misslyckade) äldre än TASK_RESULT_RETENTION."""
    from django_q.models import Task

    cutoff = (now or timezone.now()) - TASK_RESULT_RETENTION
    deleted, _ = Task.objects.filter(stopped__lt=cutoff).delete()
    return deleted
