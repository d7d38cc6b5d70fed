"""Appkonfiguration: Kampanjer för lediga operationstider."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate

from common.schedules import register_schedule

PURGE_SCHEDULE_NAME = "Radera gamla akut-SMS-kampanjer"
REQUEUE_SCHEDULE_NAME = "Köa om akut-SMS och aviseringar som fastnat i kön"


def register_purge_schedule(**kwargs: Any) -> None:
    """Registrerar raderingen varje timme och omköningen varje minut i django-q2 (idempotent)."""
    from django_q.models import Schedule

    register_schedule(PURGE_SCHEDULE_NAME, "campaigns.services.purge_expired", Schedule.HOURLY)
    register_schedule(REQUEUE_SCHEDULE_NAME, "campaigns.tasks.requeue_stuck_work", Schedule.MINUTES, minutes=1)


class CampaignsConfig(AppConfig):
    """Kampanjer för lediga operationstider."""

    name = "campaigns"
    verbose_name = "Akut-SMS-kampanjer"

    def ready(self) -> None:
        """Scheman efter varje migrate; omköning när en arbetsprocess startar."""
        from django_q.signals import post_spawn

        from campaigns.tasks import requeue_on_worker_start

        post_migrate.connect(register_purge_schedule, sender=self, dispatch_uid="campaigns_purge_schedule")
        post_spawn.connect(requeue_on_worker_start, dispatch_uid="campaigns_requeue_on_worker_start")
