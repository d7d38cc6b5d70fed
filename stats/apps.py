"""Statistiksidan: hur ofta tider fylls, hur fort, vad det kostar och vad det sparar."""

from django.apps import AppConfig


class StatsConfig(AppConfig):
    """Appen utan egna modeller: läser kampanjernas statistikrader och SMS-registret."""

    name = "stats"
    verbose_name = "Statistik"
