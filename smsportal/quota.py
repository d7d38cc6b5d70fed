"""SMS-kvoten: högst SMS_RATE_LIMIT_PER_HOUR envägs-SMS per användare och rullande timme.

Räknas ur SMS-registret (`smsportal.ledger`), så den stämmer över processer och omstarter. Den som skickar låser
sin egen användarrad först (se smsportal.oneway), så två flikar aldrig båda får det 30:e.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from smsportal.ledger import one_way_sends_since

WINDOW = timedelta(hours=1)
QUOTA_MESSAGE = "Du har överskridit SMS-kvoten, vänta till nästa timme"


@dataclass(frozen=True)
class Quota:
    """Kvotens läge för en användare just nu."""

    limit: int
    used: int
    next_available_at: datetime | None

    @property
    def remaining(self) -> int:
        """Antal SMS kvar den här rullande timmen."""
        return max(0, self.limit - self.used)

    @property
    def exceeded(self) -> bool:
        """Sant när inga SMS finns kvar."""
        return self.remaining == 0

    def message(self) -> str:
        """Svenskt besked när kvoten är slut, med klockslaget då nästa SMS kan skickas."""
        if self.next_available_at is None:
            return QUOTA_MESSAGE
        at = timezone.localtime(self.next_available_at)
        return f"{QUOTA_MESSAGE} (nästa SMS kan skickas kl. {at:%H:%M})."


def quota_for(user: Any) -> Quota:
    """Räknar användarens envägs-SMS under den senaste timmen (osäkra och pågående räknas med:
    de kan ha skickats)."""
    limit = settings.SMS_RATE_LIMIT_PER_HOUR
    used, limit_th_latest = one_way_sends_since(user, timezone.now() - WINDOW, limit)
    next_available_at = limit_th_latest + WINDOW if limit_th_latest is not None else None
    return Quota(limit=limit, used=used, next_available_at=next_available_at)
