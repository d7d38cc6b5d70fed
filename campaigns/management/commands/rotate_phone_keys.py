"""`manage.py rotate_phone_keys`: krypterar om köade nummer efter byte av PHONE_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from campaigns.models import Recipient
from campaigns.phones import PhoneDecryptionError, reencrypt_phone


class Command(BaseCommand):
    """Varje lagrat nummer krypteras om med den första nyckeln, så att de gamla kan tas bort."""

    help = (
        "Krypterar om kampanjmottagarnas lagrade nummer med den första nyckeln i "
        "PHONE_ENCRYPTION_KEYS (kör efter att en ny nyckel lagts först i listan)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        """Krypterar om numren och skriver ut hur många; ett nummer som redan skickats lämnas."""
        stored = list(Recipient.objects.exclude(phone_encrypted="").values_list("pk", "phone_encrypted"))
        rotated = unreadable = 0
        for pk, token in stored:
            try:
                new_token = reencrypt_phone(token)
            except PhoneDecryptionError:
                unreadable += 1
                continue
            # Bara om raden har kvar samma nummer: ett nummer som skickats (och raderats) under
            # tiden skrivs aldrig tillbaka.
            rotated += Recipient.objects.filter(pk=pk, phone_encrypted=token).update(phone_encrypted=new_token)
        self.stdout.write(f"Krypterade om {rotated} nummer med den första nyckeln i PHONE_ENCRYPTION_KEYS.")
        if unreadable:
            self.stderr.write(
                f"{unreadable} nummer kunde inte läsas med någon nyckel i PHONE_ENCRYPTION_KEYS; "
                "de blir misslyckade när de skickas. Lägg tillbaka den gamla nyckeln sist i listan."
            )
