"""django-q2-scheman: ett sätt att registrera dem, och portalens städning.

Varje schema registreras med `register_schedule()` efter varje migrate, med namnet som nyckel:
fler körningar ger samma rad, och namnet visas i Django admin under *Bakgrundsjobb* →
*Scheduled tasks*, där ett schema också kan köras direkt. Städningens funktioner ligger hos
appen som äger uppgifterna; här står bara när de körs (som sökvägar, utan import). Modulen
importerar inget av portalens egna, så varje app kan använda `register_schedule()`.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

SESSIONS_SCHEDULE_NAME = "Radera utgångna inloggningssessioner"
LOGIN_RECORDS_SCHEDULE_NAME = "Radera inloggningsförsök och fellogg efter spärrtiden"
TASK_RESULTS_SCHEDULE_NAME = "Radera bakgrundsjobbens resultat efter en vecka"
AUDIT_SCHEDULE_NAME = "Radera audit-händelser äldre än lagringstiden"

#: Bakgrundsjobbens resultat (funktionens namn, id:n, utfall) sparas så här länge: en misslyckad
#: körning ska IT hinna se under en arbetsvecka. Inga persondata (jobben tar bara id:n).
TASK_RESULT_RETENTION = timedelta(days=7)
#: De dagliga schemana körs första gången nästa natt kl. 03.00 (svensk tid), sedan varje dygn.
NIGHTLY_AT = time(3, 0)


def next_night(now: datetime | None = None) -> datetime:
    """Nästa NIGHTLY_AT i portalens tidszon, efter `now`."""
    local = timezone.localtime(now or timezone.now())
    at = local.replace(hour=NIGHTLY_AT.hour, minute=NIGHTLY_AT.minute, second=0, microsecond=0)
    return at if at > local else at + timedelta(days=1)


def register_schedule(name: str, func: str, schedule_type: str, *, minutes: int | None = None) -> None:
    """Lägger in eller uppdaterar schemat `name` (idempotent: en rad per namn).

    Funktion och intervall skrivs om vid varje migrate; nästa körning sätts bara när schemat
    skapas (dagliga scheman nästa natt, övriga direkt), så att en migrate inte flyttar den.
    """
    from django_q.models import Schedule

    defaults: dict[str, Any] = {"func": func, "schedule_type": schedule_type, "minutes": minutes, "repeats": -1}
    first_run = next_night() if schedule_type == Schedule.DAILY else timezone.now()
    Schedule.objects.update_or_create(name=name, defaults=defaults, create_defaults={**defaults, "next_run": first_run})


def register_housekeeping(**kwargs: Any) -> None:
    """Registrerar städningens scheman (efter varje migrate; se README, Städning)."""
    from django_q.models import Schedule

    register_schedule(SESSIONS_SCHEDULE_NAME, "accounts.sessions.clear_expired_sessions", Schedule.DAILY)
    # Varje timme, så att felloggen sparas högst en timme plus spärrtiden och en timme till.
    register_schedule(LOGIN_RECORDS_SCHEDULE_NAME, "accounts.lockout.purge_expired_login_records", Schedule.HOURLY)
    register_schedule(TASK_RESULTS_SCHEDULE_NAME, "config.schedules.purge_task_results", Schedule.DAILY)
    register_schedule(AUDIT_SCHEDULE_NAME, "audit.services.purge_audit_log", Schedule.DAILY)


def purge_task_results(now: datetime | None = None) -> int:
    """Raderar django-q2:s sparade jobb (lyckade och misslyckade) äldre än TASK_RESULT_RETENTION."""
    from django_q.models import Task

    cutoff = (now or timezone.now()) - TASK_RESULT_RETENTION
    deleted, _ = Task.objects.filter(stopped__lt=cutoff).delete()
    return deleted
