"""Appkonfiguration: Kampanjer för lediga operationstider."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate

PURGE_SCHEDULE_NAME = "Radera gamla akut-SMS-kampanjer"


def sent_to_recipient(provider: str, message_id: str) -> bool:
    """Sant om en kampanjmottagare fick SMS:et med detta meddelande-id (för leveransrapporter)."""
    from campaigns.models import Recipient

    return Recipient.objects.filter(provider=provider, provider_message_id=message_id).exists()


def register_purge_schedule(**kwargs: Any) -> None:
    """Registrerar raderingen varje timme i django-q2 (idempotent: samma namn uppdateras)."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=PURGE_SCHEDULE_NAME,
        defaults={
            "func": "campaigns.services.purge_expired",
            "schedule_type": Schedule.HOURLY,
            "repeats": -1,
        },
    )


class CampaignsConfig(AppConfig):
    """Kampanjer för lediga operationstider."""

    name = "campaigns"
    verbose_name = "Akut-SMS-kampanjer"

    def ready(self) -> None:
        """Schemat för raderingen efter varje migrate; leveransrapporter för kampanj-SMS tas emot."""
        from smsportal.delivery import message_lookups

        post_migrate.connect(register_purge_schedule, sender=self, dispatch_uid="campaigns_purge_schedule")
        if sent_to_recipient not in message_lookups:
            message_lookups.append(sent_to_recipient)
