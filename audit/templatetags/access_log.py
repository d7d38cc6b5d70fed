"""Mallhjälp för åtkomstloggen på sidor som andra appar visar (t.ex. dataskyddspolicyn)."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def access_log_retention_days() -> int:
    """Hur många dagar åtkomstloggen sparas (ACCESS_LOG_RETENTION_DAYS)."""
    return settings.ACCESS_LOG_RETENTION_DAYS
