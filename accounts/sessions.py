"""Sessionens inaktivitetsgräns, på ett ställe för både HTTP och websockets.

Bara användarens egna sidvisningar och formulär räknas som aktivitet. Bakgrundsanrop
(polling, websockets) läser tiden men förlänger den aldrig.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.management import call_command

LAST_ACTIVITY_KEY = "last_activity"

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., Any])


def timeout_seconds() -> int:
    """Inaktivitetsgränsen i sekunder (SESSION_TIMEOUT_MINUTES)."""
    return settings.SESSION_TIMEOUT_MINUTES * 60


def is_expired(session: SessionBase) -> bool:
    """Sant om sessionens senaste aktivitet ligger längre bak än gränsen."""
    last = session.get(LAST_ACTIVITY_KEY)
    return last is not None and time.time() - float(last) > timeout_seconds()


def seconds_left(session: SessionBase) -> int:
    """Sekunder kvar innan sessionen går ut av inaktivitet (aldrig negativt)."""
    last = session.get(LAST_ACTIVITY_KEY)
    if last is None:
        return timeout_seconds()
    return max(0, int(timeout_seconds() - (time.time() - float(last))))


def touch(session: SessionBase) -> None:
    """Noterar aktivitet nu; sessionen sparas och kakans livstid förlängs."""
    session[LAST_ACTIVITY_KEY] = time.time()


def start_clock(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Vid inloggning (signalen user_logged_in): inaktivitetsklockan börjar nu."""
    if request is not None and hasattr(request, "session"):
        touch(request.session)


def clear_expired_sessions() -> None:
    """Raderar sessioner vars livstid gått ut (`manage.py clearsessions`; det dagliga schemat).

    Utan den ligger varje session som aldrig loggades ut kvar i databasen för alltid.
    """
    call_command("clearsessions")


def background_request(view: ViewFunc) -> ViewFunc:
    """Markerar en vy som bakgrundsanrop: den förlänger aldrig sessionen."""
    # Ett eget attribut på vyfunktionen, som InactivityTimeoutMiddleware läser; funktionstypen känner inte till det.
    view.background_request = True  # type: ignore[attr-defined]
    return view
