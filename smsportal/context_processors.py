"""Mallvariabler för alla sidor."""

from __future__ import annotations

from django.http import HttpRequest

from smsportal.views import dev_outbox_enabled


def dev_outbox(request: HttpRequest) -> dict[str, bool]:
    """Visar länken till utvecklingsutkorgen i menyn när den finns."""
    return {"debug_outbox": dev_outbox_enabled()}
