"""Appkonfiguration: Kampanjer för lediga operationstider."""

from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Kampanjer för lediga operationstider."""

    name = "campaigns"
    verbose_name = "Akut-SMS-kampanjer"
