"""Audit-loggens modell: en rad per händelse, bara metadata, aldrig persondata om patienter."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone


class Action(models.TextChoices):
    """Vilka händelser som loggas."""

    LOGIN = "login", "Inloggning"
    LOGIN_FAILED = "login_failed", "Misslyckad inloggning"
    LOGOUT = "logout", "Utloggning"
    SESSION_EXPIRED = "session_expired", "Utloggad efter inaktivitet"
    LOCKOUT = "lockout", "Spärrad efter för många försök"
    MFA_ENROLLED = "mfa_enrolled", "Tvåstegsverifiering aktiverad"
    MFA_FAILED = "mfa_failed", "Fel kod i tvåstegsverifieringen"
    MFA_RESET = "mfa_reset", "Tvåstegsverifiering nollställd"
    RECOVERY_CODE_USED = "recovery_code_used", "Inloggning med reservkod"
    SMS_SENT = "sms_sent", "SMS skickat"
    SMS_FAILED = "sms_failed", "SMS misslyckades"
    SMS_UNCERTAIN = "sms_uncertain", "SMS osäkert (inget svar från leverantören)"
    CAMPAIGN_CREATED = "campaign_created", "Kampanj skapad"
    CAMPAIGN_FILLED = "campaign_filled", "Kampanj tillsatt"
    CAMPAIGN_CLOSED = "campaign_closed", "Kampanj avslutad"
    CAMPAIGN_WAVE_SENT = "campaign_wave_sent", "Kampanj: grupp skickad"
    CAMPAIGN_RECIPIENTS_ADDED = "campaign_recipients_added", "Kampanj: mottagare tillagda"
    CAMPAIGN_PURGED = "campaign_purged", "Kampanjer raderade"
    OPT_OUT_ADDED = "opt_out_added", "Patient avböjde fler förfrågningar"
    OPT_OUT_REMOVED = "opt_out_removed", "Avböjande borttaget av administratör"
    CAMPAIGN_REOPENED = "campaign_reopened", "Kampanj öppnad igen"
    CALL_OUTCOME = "call_outcome", "Samtal med JA-patient noterat"
    CAMPAIGN_THANKS = "campaign_thanks", "Tack-SMS till övriga JA-patienter"
    ADMIN_CHANGE = "admin_change", "Ändring i administrationen"


class AppendOnlyQuerySet(models.QuerySet):
    """Frågor mot en append-only-logg: rader kan läggas till och läsas, aldrig ändras."""

    def update(self, **kwargs: Any) -> NoReturn:
        """Vägrar: en loggrad ändras aldrig, inte heller i klump."""
        raise ValueError(f"Raderna i {self.model._meta.verbose_name_plural} ändras inte i efterhand.")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> NoReturn:
        """Vägrar, som `update()`."""
        raise ValueError(f"Raderna i {self.model._meta.verbose_name_plural} ändras inte i efterhand.")


class AppendOnlyLog(models.Model):
    """Gemensamt för audit-loggen och åtkomstloggen: tidpunkten, och rader som aldrig ändras.

    Varken `save()` på en befintlig rad eller `QuerySet.update()` går. En enskild rad raderas
    inte heller: raderna tas bara bort i klump när lagringstiden gått ut
    (`audit.services.purge_audit_log` och `purge_access_log`).
    """

    created_at = models.DateTimeField("tidpunkt", auto_now_add=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Sparar en ny rad; befintliga rader ändras aldrig (loggen är append-only)."""
        if self.pk is not None:
            raise ValueError(f"Raderna i {self._meta.verbose_name_plural} ändras inte i efterhand.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Vägrar: raderna raderas bara efter lagringstiden, i klump efter ålder."""
        raise ValueError(f"Raderna i {self._meta.verbose_name_plural} raderas bara när lagringstiden gått ut.")


class AuditEvent(AppendOnlyLog):
    """En händelse i audit-loggen.

    Tillåtna uppgifter: vem (personal), när, vad, mallens kategori och rubrik, status,
    SMS-leverantör, antal segment och räknare (t.ex. SMS-registrets id i `data`). Aldrig ett telefonnummer eller en
    meddelandetext: `audit.services.record()` vägrar sådana värden.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="användare",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    # Användarnamnet sparas också, så att loggen går att läsa om kontot tas bort.
    actor_username = models.CharField("användarnamn", max_length=150, blank=True)
    action = models.CharField("händelse", max_length=32, choices=Action.choices, db_index=True)
    status = models.CharField("status", max_length=32, blank=True)
    reason = models.CharField("orsak", max_length=200, blank=True)
    category = models.CharField("mallkategori", max_length=100, blank=True)
    template_title = models.CharField("mall", max_length=200, blank=True)
    edited = models.BooleanField("redigerad text", null=True, blank=True)
    segments = models.PositiveSmallIntegerField("segment", null=True, blank=True)
    provider = models.CharField("leverantör", max_length=32, blank=True)
    data = models.JSONField("övrigt (räknare)", default=dict, blank=True)

    class Meta:
        verbose_name = "audit-händelse"
        verbose_name_plural = "audit-logg"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["actor", "action", "created_at"])]

    def __str__(self) -> str:
        """Kort beskrivning för admin och felsökning."""
        return f"{timezone.localtime(self.created_at):%Y-%m-%d %H:%M} {self.actor_username or '-'} {self.get_action_display()}"


class AccessKind(models.TextChoices):
    """Vad i portalen som personalen tittade på (åtkomstloggen)."""

    CAMPAIGN_PAGE = "campaign_page", "Kampanjsidan"
    CAMPAIGN_STATUS = "campaign_status", "Kampanjens läge (statusadressen)"
    CAMPAIGN_SOCKET = "campaign_socket", "Kampanjsidans liveanslutning"
    AUDIT_LOG = "audit_log", "Audit-loggen"
    AUDIT_CSV = "audit_csv", "Audit-loggen som CSV"
    AUDIT_ADMIN = "audit_admin", "Audit-loggen i admin"
    ACCESS_LOG = "access_log", "Åtkomstloggen"
    ACCESS_CSV = "access_csv", "Åtkomstloggen som CSV"
    PHONE_REVEAL = "phone_reveal", "Visat nummer till JA-patient"


class AccessEvent(AppendOnlyLog):
    """En visning i åtkomstloggen (logguppföljning, patientdatalagen 4 kap. 3 §).

    Vem i personalen, när, vad och vilken kampanj – bara id:n, aldrig namn, nummer eller
    operationstyp. Egen tabell i stället för fler händelser i AuditEvent: visningarna är
    många (statusadressen pollas var 5:e sekund), läses med egna frågor (vem såg kampanj N,
    vad såg användare U) och har en egen lagringstid (ACCESS_LOG_RETENTION_DAYS; audit-loggen
    AUDIT_RETENTION_DAYS). Rader ändras aldrig.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="användare",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="access_events",
    )
    # Användarnamnet sparas också, så att loggen går att läsa om kontot tas bort.
    actor_username = models.CharField("användarnamn", max_length=150)
    kind = models.CharField("visning", max_length=32, choices=AccessKind.choices)
    # Bara id:t (ingen främmande nyckel): raden finns kvar när kampanjen har raderats.
    campaign_id = models.PositiveBigIntegerField("kampanj-id", null=True, blank=True)
    # Vems nummer som visades ("Visa nummer"); bara id:t, som kampanjens.
    recipient_id = models.PositiveBigIntegerField("mottagar-id", null=True, blank=True)

    class Meta:
        verbose_name = "åtkomsthändelse"
        verbose_name_plural = "åtkomstlogg"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["actor", "kind", "campaign_id", "created_at"]),
            models.Index(fields=["campaign_id", "created_at"]),
        ]

    def __str__(self) -> str:
        """Kort beskrivning för felsökning."""
        target = f" kampanj {self.campaign_id}" if self.campaign_id else ""
        return f"{timezone.localtime(self.created_at):%Y-%m-%d %H:%M} {self.actor_username} {self.shown_kind}{target}"

    @property
    def shown_kind(self) -> str:
        """Visningen med vems nummer det gällde, t.ex. "Visat nummer till JA-patient (mottagare 12)"."""
        label = self.get_kind_display()
        return f"{label} (mottagare {self.recipient_id})" if self.recipient_id else label
