"""`manage.py send_test_sms +46…`: skickar ett test-SMS genom den vanliga kedjan (loggas i audit)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.models import Action
from audit.services import record
from smsportal.backends.base import SmsError
from smsportal.phone import InvalidPhoneNumber, mask_phone, parse_swedish_mobile
from smsportal.sending import send_sms
from templates_app.models import with_signature

TEST_TEXT = "Test från SMS-portalen. Du behöver inte göra något."
AUDIT_FIELDS = {"actor_username": "manage.py", "category": "Drift", "template_title": "Test-SMS"}


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
        try:
            result = send_sms(to, with_signature(TEST_TEXT))
        except SmsError as error:
            action = Action.SMS_UNCERTAIN if error.ambiguous else Action.SMS_FAILED
            record(action, status="osäkert" if error.ambiguous else "misslyckat", reason=error.reason, provider=error.provider, **AUDIT_FIELDS)
            raise CommandError(f"{error.message} ({error.reason})") from None
        record(
            Action.SMS_SENT,
            status="skickat",
            segments=result.segments,
            provider=result.provider,
            provider_message_id=result.message_id,
            **AUDIT_FIELDS,
        )
        self.stdout.write(self.style.SUCCESS(
            f"Test-SMS skickat till {mask_phone(to)} via {result.provider} (meddelande-id {result.message_id})."
        ))
