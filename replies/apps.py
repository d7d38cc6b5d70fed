"""Appkonfiguration: Patienternas svarssidor /s/<kod> (utan inloggning: koden i länken är nyckeln)."""

from django.apps import AppConfig


class RepliesConfig(AppConfig):
    """Patienternas svarssidor /s/<kod> (utan inloggning: koden i länken är nyckeln)."""

    name = "replies"
    verbose_name = "Patientsvar"
