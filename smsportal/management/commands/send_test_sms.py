"""`manage.py send_test_sms +46…`: skickar ett test-SMS genom den vanliga kedjan (registret och audit)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smsportal.phone import InvalidPhoneNumber, mask_phone, parse_swedish_mobile
from smsportal.sending import Purpose, send_and_record
from templates_app.models import with_signature

TEST_TEXT = "Test från SMS-portalen. Du behöver inte göra något."


class Command(BaseCommand):
    """Skickar ett kort test-SMS; numret skrivs bara ut maskerat och sparas aldrig."""

    help = "Skickar ett test-SMS till ett svenskt mobilnummer genom SMS_PROVIDERS."

    def add_arguments(self, parser: CommandParser) -> None:
        """Mobilnumret att skicka till."""
        parser.add_argument("number", help="svenskt mobilnummer, t.ex. +46701234567")

    def handle(self, *args: Any, number: str, **options: Any) -> None:
        """Skickar och skriver ut resultatet; fel ger en svensk felrad och felkod."""
        try:
            to = parse_swedish_mobile(number)
        except InvalidPhoneNumber as error:
            raise CommandError(str(error)) from None
        outcome = send_and_record(
            to,
            with_signature(TEST_TEXT),
            purpose=Purpose.TEST,
            actor_username="manage.py",
            category="Drift",
            template_title="Test-SMS",
        )
        if outcome.error is not None:
            raise CommandError(f"{outcome.error.message} ({outcome.error.reason})")
        attempt = outcome.attempt
        self.stdout.write(
            self.style.SUCCESS(
                f"Test-SMS skickat till {mask_phone(to)} via {attempt.provider} (meddelande-id {attempt.provider_message_id})."
            )
        )
