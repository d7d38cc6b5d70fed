"""Appkonfiguration: Patienternas svarssidor /s/<kod>, de enda vyerna utan inloggning."""

from django.apps import AppConfig


class RepliesConfig(AppConfig):
    """Patienternas svarssidor /s/<kod>, de enda vyerna utan inloggning."""

    name = "replies"
    verbose_name = "Patientsvar"
