"""Modeller i smsportal: bara utvecklingsutkorgen (envägs-SMS sparas aldrig, se DESIGN.md).

`DevOutboxMessage` är det enda undantaget från regeln att ett SMS:s text aldrig sparas: den
skrivs bara med DEBUG på och konsolbackenden (som vägrar starta med DEBUG av), håller bara
de senaste `smsportal.devoutbox.KEEP` SMS:en och töms av samma radering som kampanjerna.
Numret sparas bara maskerat.
"""

from __future__ import annotations

from django.db import models


class DevOutboxMessage(models.Model):
    """Ett SMS som konsolbackenden "skickat" i utvecklingsläge (visas på /utveckling/utkorg/)."""

    sent_at = models.DateTimeField("skickat", db_index=True)
    masked_phone = models.CharField("mottagare (maskerat)", max_length=20)
    text = models.TextField("text")
    segments = models.PositiveSmallIntegerField("SMS-delar")
    provider_message_id = models.CharField("meddelande-id", max_length=64, db_index=True)

    class Meta:
        verbose_name = "SMS i utvecklingsutkorgen"
        verbose_name_plural = "SMS i utvecklingsutkorgen"
        ordering = ["-id"]

    def __str__(self) -> str:
        """Tid och maskerat nummer (aldrig texten)."""
        return f"{self.sent_at:%Y-%m-%d %H:%M:%S} till {self.masked_phone}"
