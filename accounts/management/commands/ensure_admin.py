"""`manage.py ensure_admin`: skapar eller uppdaterar administratören från miljön.

Uppgraderingen (deploy/smsportal.sh upgrade) kör `--if-missing`: ett konto som redan finns lämnas
orört, så att en administratör som kliniken stängt av eller gett ett nytt lösenord i
administrationen inte blir aktiv igen med lösenordet ur miljön vid varje uppdatering. Utan
flaggan återställs kontot (glömt lösenord, borttagna rättigheter).
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.roles import ADMIN_GROUP


class Command(BaseCommand):
    """Idempotent: samma miljö ger samma konto, hur många gånger kommandot än körs."""

    help = "Skapar eller uppdaterar administratören från ADMIN_USERNAME och ADMIN_PASSWORD."

    def add_arguments(self, parser: ArgumentParser) -> None:
        """`--if-missing`: skapa bara ett konto som saknas (uppgraderingen)."""
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="skapa bara om kontot saknas; ett befintligt konto lämnas orört (även avstängt)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Kontrollerar lösenordet och skapar eller uppdaterar kontot."""
        username = settings.ADMIN_USERNAME.strip()
        password = settings.ADMIN_PASSWORD
        if not username or not password:
            raise CommandError("ADMIN_USERNAME och ADMIN_PASSWORD måste vara satta i miljön eller i .env.")
        self._check_password(username, password)

        user_model = get_user_model()
        existing = user_model.objects.filter(username=username).first()
        if existing is not None and options["if_missing"]:
            self.stdout.write(f"Administratören {username!r} finns redan och lämnas orörd.")
            return
        created = existing is None
        user = user_model(username=username) if existing is None else existing
        changed = created or not (user.is_active and user.is_staff and user.is_superuser)
        user.is_active = user.is_staff = user.is_superuser = True
        if created or not user.check_password(password):
            user.set_password(password)
            changed = True
        if changed:
            user.save()
        group, _ = Group.objects.get_or_create(name=ADMIN_GROUP)
        user.groups.add(group)

        verb = "skapad" if created else ("uppdaterad" if changed else "oförändrad")
        self.stdout.write(self.style.SUCCESS(f"Administratören {username!r} är {verb}."))

    @staticmethod
    def _check_password(username: str, password: str) -> None:
        """Med DEBUG avstängt vägras exempellösenordet och svaga lösenord."""
        if settings.DEBUG:
            return
        if password == settings.EXAMPLE_ADMIN_PASSWORD:
            raise CommandError("ADMIN_PASSWORD är exempellösenordet från .env.example. Välj ett eget.")
        try:
            validate_password(password, get_user_model()(username=username))
        except ValidationError as error:
            raise CommandError("ADMIN_PASSWORD är för svagt: " + " ".join(error.messages)) from error
