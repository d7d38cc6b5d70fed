"""Mallhjälp för åtkomstloggen på sidor som andra appar visar (t.ex. dataskyddspolicyn)."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()

#: Dagar per år; upp till två skottdagar till räknas ändå som hela år ("5 år" = 1 825–1 827 dagar).
DAYS_PER_YEAR = 365
LEAP_DAYS_ALLOWED = 2


@register.simple_tag
def access_log_retention() -> str:
    """Hur länge åtkomstloggen sparas (ACCESS_LOG_RETENTION_DAYS), som en människa säger det: "5 år" eller "90 dagar"."""
    return days_in_words(settings.ACCESS_LOG_RETENTION_DAYS)


def days_in_words(days: int) -> str:
    """Hela år som år (skottdagar inräknade), annars dagar."""
    years, rest = divmod(days, DAYS_PER_YEAR)
    if years and rest <= LEAP_DAYS_ALLOWED:
        return f"{years} år"
    return f"{days} dagar"
