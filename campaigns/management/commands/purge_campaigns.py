"""`manage.py purge_campaigns`: samma radering som django-q2-schemat gör varje timme."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from campaigns.services import purge_expired


class Command(BaseCommand):
    """Raderar kampanjer äldre än CAMPAIGN_RETENTION_DAYS (audit behåller bara antal)."""

    help = "Raderar akut-SMS-kampanjer äldre än CAMPAIGN_RETENTION_DAYS dagar med sina mottagare."

    def handle(self, *args: Any, **options: Any) -> None:
        """Kör raderingen och skriver ut hur många kampanjer som raderades."""
        deleted = purge_expired()
        days = settings.CAMPAIGN_RETENTION_DAYS
        self.stdout.write(f"Raderade {deleted} kampanj(er) äldre än {days} dagar.")
