"""Leveransrapporter för kampanjens SMS: kampanjsidorna uppdateras (SMS_DELIVERY_LISTENERS)."""

from __future__ import annotations

from campaigns.events import campaign_changed
from smsportal.delivery import DeliveryReport


def on_delivery_report(report: DeliveryReport) -> None:
    """En ny leveransstatus för ett kampanj-SMS: kampanjens öppna sidor visar den."""
    if report.campaign_id is not None:
        campaign_changed(report.campaign_id)
