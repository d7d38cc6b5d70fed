"""Backend för utveckling: skriver ut SMS:et och visar det i utvecklingsutkorgen.

Numret skrivs bara ut maskerat. Hela SMS:et finns kvar i processens minne (högst
`KEEP` stycken) för sidan /utveckling/utkorg/, som bara finns när DEBUG är på.
"""

from __future__ import annotations

import sys
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from smsportal.backends.base import BaseBackend, SendResult
from smsportal.phone import mask_phone

KEEP = 50


@dataclass(frozen=True)
class ConsoleMessage:
    """Ett SMS i utvecklingsutkorgen."""

    to: str
    text: str
    sent_at: datetime


#: De senaste SMS:en i den här processen, nyast först.
recent: deque[ConsoleMessage] = deque(maxlen=KEEP)


class ConsoleBackend(BaseBackend):
    """Skickar inget: skriver ut SMS:et (maskerat nummer) och sparar det i minnet."""

    name = "console"

    def send(self, to: str, text: str) -> SendResult:
        """Skriver ut och sparar SMS:et; returnerar ett slumpat meddelande-id."""
        recent.appendleft(ConsoleMessage(to=to, text=text, sent_at=timezone.now()))
        result = self.result(f"console-{uuid.uuid4().hex[:12]}", text)
        rule = "-" * 40
        sys.stdout.write(
            f"{rule}\nSMS till {mask_phone(to)} ({result.segments} del(ar)):\n{text}\n{rule}\n"
        )
        sys.stdout.flush()
        return result
