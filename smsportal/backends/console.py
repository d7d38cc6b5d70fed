"""Backend för utveckling: skriver ut SMS:et och lägger det i utvecklingsutkorgen.

Numret skrivs bara ut maskerat. SMS:et sparas i databasen (`smsportal.devoutbox`, bara med
DEBUG på) så att sidan /utveckling/utkorg/ visar det, vilken process som än skickade det
(webbprocessen eller django-q2:s arbetsprocesser). Backenden får bara användas i
utvecklingsläge: med DEBUG av stoppar config/settings.py starten.
"""

from __future__ import annotations

import sys
import uuid

from smsportal import devoutbox
from smsportal.backends.base import BaseBackend, SendResult
from smsportal.phone import mask_phone


class ConsoleBackend(BaseBackend):
    """Skickar inget: sparar SMS:et i utvecklingsutkorgen och skriver ut det (maskerat nummer)."""

    name = "console"

    def send(self, to: str, text: str) -> SendResult:
        """Sparar och skriver ut SMS:et; returnerar ett slumpat meddelande-id."""
        result = self.result(f"console-{uuid.uuid4().hex[:12]}", text)
        devoutbox.remember(to, text, result)
        rule = "-" * 40
        sys.stdout.write(f"{rule}\nSMS till {mask_phone(to)} ({result.segments} del(ar)):\n{text}\n{rule}\n")
        sys.stdout.flush()
        return result
