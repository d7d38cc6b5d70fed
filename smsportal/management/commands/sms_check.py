"""`manage.py sms_check`: visar leverantörskedjan och kontrollerar inloggningen utan att skicka."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from smsportal.backends.base import SmsError
from smsportal.sending import get_backends


class Command(BaseCommand):
    """Skriver ut failover-ordningen och frågar varje leverantör om uppgifterna gäller."""

    help = "Kontrollerar SMS-leverantörernas inställningar utan att skicka något SMS."

    def handle(self, *args: Any, **options: Any) -> None:
        """Kontrollerar varje leverantör i ordning; avslutar med fel om någon inte fungerar."""
        backends = get_backends()
        self.stdout.write("Leverantörer i failover-ordning: " + " → ".join(b.name for b in backends))
        self.stdout.write(f"Avsändare: {settings.SMS_SENDER_ID}")
        failed = 0
        for backend in backends:
            try:
                line = backend.check()
            except SmsError as error:
                failed += 1
                self.stdout.write(self.style.ERROR(f"  ✗ {backend.name}: {error.message} ({error.reason})"))
            else:
                self.stdout.write(self.style.SUCCESS(f"  ✓ {backend.name}: {line}"))
        if failed:
            raise CommandError(f"{failed} av {len(backends)} leverantörer fungerar inte.")
