"""Appkonfiguration: Kategorier och SMS-mallar för envägs-SMS."""

from django.apps import AppConfig


class TemplatesAppConfig(AppConfig):
    """Kategorier och SMS-mallar för envägs-SMS."""

    name = "templates_app"
    verbose_name = "Mallar"
