"""Modeller i smsportal: SMS-registret (`SendAttempt`) och utvecklingsutkorgen.

SMS-registret har en rad per sändförsök genom `smsportal.sending.send_and_record`: vad, vem,
status, leverantör, delar och leveransstatus – aldrig ett nummer eller en text.

`DevOutboxMessage` är det enda undantaget från regeln att ett SMS:s text aldrig sparas: den
skrivs bara med DEBUG på och konsolbackenden (som vägrar starta med DEBUG av), håller bara
de senaste `smsportal.devoutbox.KEEP` SMS:en och töms av samma radering som kampanjerna.
Numret sparas bara maskerat.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Purpose(models.TextChoices):
    """Varför SMS:et skickades."""

    ONE_WAY = "one_way", "Envägs-SMS"
    CAMPAIGN = "campaign", "Akut-SMS-kampanj"
    STAFF_ALERT = "staff_alert", "Avisering till personal"
    TEST = "test", "Test-SMS"


class AttemptStatus(models.TextChoices):
    """Sändförsökets utfall. `pending` som blir kvar (processen dog mitt i) betyder osäkert."""

    PENDING = "pending", "skickas"
    SENT = "sent", "skickat"
    FAILED = "failed", "misslyckat"
    UNCERTAIN = "uncertain", "osäkert"


class DeliveryStatus(models.TextChoices):
    """Leveransstatus för ett skickat SMS, som personalen ser den (leverantörens rapport)."""

    PENDING = "väntar", "väntar"
    DELIVERED = "levererat", "levererat"
    FAILED = "ej levererat", "ej levererat"


class SendAttempt(models.Model):
    """Ett sändförsök i SMS-registret: skapas som `pending` före leverantörens anrop och får
    sitt utfall en gång (villkorlig uppdatering), sedan möjligen en slutlig leveransstatus.

    Aldrig ett telefonnummer eller en meddelandetext. Kvoten räknas härifrån (indexet på
    användare, syfte och tid), och leveransrapporterna sparas här (en gång, första slutstatus).
    """

    created_at = models.DateTimeField("tidpunkt", auto_now_add=True)
    purpose = models.CharField("syfte", max_length=16, choices=Purpose.choices)
    # Envägs-SMS: den i personalen som skickade (kvoten räknas per person); annars tomt.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="sms_attempts",
        verbose_name="användare",
    )
    # Användarnamnet (eller "system", "manage.py") sparas också, så att raden går att läsa utan kontot.
    actor_username = models.CharField("användarnamn", max_length=150, blank=True)
    category = models.CharField("mallkategori", max_length=100, blank=True)
    template_title = models.CharField("mall", max_length=200, blank=True)
    edited = models.BooleanField("redigerad text", null=True, blank=True)
    # Bara id:t (ingen främmande nyckel): raden finns kvar när kampanjen har raderats.
    campaign_id = models.PositiveBigIntegerField("kampanj-id", null=True, blank=True)
    status = models.CharField("status", max_length=16, choices=AttemptStatus.choices, default=AttemptStatus.PENDING)
    reason = models.CharField("orsak", max_length=200, blank=True)
    provider = models.CharField("leverantör", max_length=32, blank=True)
    provider_message_id = models.CharField("leverantörens meddelande-id", max_length=100, blank=True)
    segments = models.PositiveSmallIntegerField("SMS-delar", null=True, blank=True)
    finished_at = models.DateTimeField("utfall", null=True, blank=True)
    delivery_status = models.CharField("leverans", max_length=16, choices=DeliveryStatus.choices, blank=True)
    delivered_at = models.DateTimeField("leveransrapport mottagen", null=True, blank=True)
    # Formulärets engångs-id: samma formulär skickat två gånger ger bara ett SMS.
    idempotency_key = models.CharField("formulär-id", max_length=64, blank=True)

    class Meta:
        verbose_name = "skickat SMS"
        verbose_name_plural = "SMS-register"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["actor", "purpose", "created_at"], name="sms_attempt_quota"),
            models.Index(fields=["provider", "provider_message_id"], name="sms_attempt_message"),
            models.Index(fields=["idempotency_key"], name="sms_attempt_idempotency"),
            models.Index(fields=["created_at"], name="sms_attempt_created"),
            # Kampanjens SMS-delar och kostnad (kampanjsidan och statistiken).
            models.Index(fields=["campaign_id"], name="sms_attempt_campaign"),
        ]

    def __str__(self) -> str:
        """Tid, syfte och status (aldrig nummer eller text)."""
        return f"{timezone.localtime(self.created_at):%Y-%m-%d %H:%M} {self.get_purpose_display()}: {self.get_status_display()}"

    @property
    def delivery(self) -> str:
        """Leveransstatus för personalen: rapportens status för ett skickat SMS, annars tomt."""
        if self.status != AttemptStatus.SENT:
            return ""
        return self.delivery_status or DeliveryStatus.PENDING


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
        return f"{timezone.localtime(self.sent_at):%Y-%m-%d %H:%M:%S} till {self.masked_phone}"
