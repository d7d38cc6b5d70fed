"""django-q2-scheman: ett enda sätt att registrera dem, som varje app och config använder.

Varje schema registreras efter varje migrate, med namnet som nyckel: fler körningar ger samma
rad, och namnet visas i Django admin under *Bakgrundsjobb* → *Scheduled tasks*, där ett schema
också kan köras direkt. Modulen importerar inget av portalens egna.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

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
