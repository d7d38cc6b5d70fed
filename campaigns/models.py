"""Akut-SMS-kampanjer: en ledig operationstid och de väntelistepatienter som fått frågan.

Persondata enligt dataskyddskartan: mottagarens namn (tills kampanjen raderas), numret
krypterat bara tills SMS:et är skickat och därefter endast nyckelhash och maskerad form,
operationstypen bara för den som samtyckt. Allt raderas CAMPAIGN_RETENTION_DAYS efter start.
"""

from __future__ import annotations

import secrets
import string
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from campaigns.messages import first_name

# Bara bokstäver och siffror: telefoner gör hela länken klickbar (ett avslutande "-" eller
# "_" tappas av en del länkigenkänning). 17 tecken ur 62 ger drygt 101 bitar slump.
CODE_ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 17
# Hur länge en påbörjad sändning får pågå innan den visas som osäker.
SENDING_UNCERTAIN_AFTER = timedelta(minutes=1)


def new_reply_code() -> str:
    """En svarskod med minst 96 bitar slump från `secrets` (kort länk i SMS:et)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class Campaign(models.Model):
    """En kampanj för en ledig tid."""

    class Status(models.TextChoices):
        """Kampanjens liv: aktiv → tillsatt eller avslutad → raderad."""

        ACTIVE = "active", "aktiv"
        FILLED = "filled", "tillsatt"
        CLOSED = "closed", "avslutad"

    title = models.CharField(
        "rubrik", max_length=100, blank=True, help_text="Personalens egen rubrik; visas aldrig för patienten."
    )
    slot_at = models.DateTimeField("ledig tid")
    # Svara senast: därefter stänger kampanjen sig själv. Tom bara för kampanjer från före fältet.
    answer_deadline = models.DateTimeField("svara senast", null=True, blank=True)
    operation_type = models.CharField(
        "operationstyp",
        max_length=100,
        blank=True,
        help_text="Visas bara för mottagare som samtyckt till SMS om sina bokningar.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="skapad av", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("skapad", auto_now_add=True, db_index=True)
    status = models.CharField("status", max_length=16, choices=Status.choices, default=Status.ACTIVE)
    status_changed_at = models.DateTimeField("status ändrad", null=True, blank=True)
    # Personalens mobil för SMS-avisering vid JA (E.164, valfri); raderas med kampanjen.
    notify_phone = models.CharField("mobil för SMS-avisering", max_length=16, blank=True)
    # När aviseringen om första JA köades (den köas bara en gång per kampanj).
    alert_sent_at = models.DateTimeField("avisering köad", null=True, blank=True)
    # Formulärets engångs-id: dubbelklick på "Skicka" skapar inte två kampanjer.
    request_id = models.CharField("formulär-id", max_length=64, unique=True, null=True, blank=True)
    # Sändning i grupper: tomt antal = alla på en gång. Klistrad ordning är prioritetsordning.
    wave_size = models.PositiveSmallIntegerField("antal per grupp", null=True, blank=True)
    wave_minutes = models.PositiveSmallIntegerField("minuter mellan grupper", default=10)
    pause_on_yes = models.BooleanField("pausa när någon svarat JA", default=True)
    waves_sent = models.PositiveSmallIntegerField("skickade grupper", default=0)
    next_wave_at = models.DateTimeField("nästa grupp", null=True, blank=True)
    # Vem som fick tiden ("Bokad"); bara ett id, namnet finns på mottagaren tills kampanjen raderas.
    booked_recipient = models.ForeignKey(
        "Recipient", verbose_name="bokad mottagare", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "kampanj"
        verbose_name_plural = "kampanjer"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        """Kort beskrivning med tiden."""
        return f"Ledig tid {timezone.localtime(self.slot_at):%Y-%m-%d %H:%M}"

    @property
    def creator_name(self) -> str:
        """Vem som skapade kampanjen: namnet, annars användarnamnet; "(borttaget konto)" när kontot raderats."""
        if self.created_by is None:
            return "(borttaget konto)"
        return self.created_by.get_full_name() or self.created_by.get_username()

    @property
    def is_open(self) -> bool:
        """Sant så länge patienterna kan svara: aktiv, och varken svarstiden eller tiden har passerat.

        Utan svarstid (kampanjer från före fältet) gäller bara tiden.
        """
        now = timezone.now()
        return self.status == self.Status.ACTIVE and self.slot_at > now and not self.deadline_passed

    @property
    def deadline_passed(self) -> bool:
        """Sant när kampanjen har en svarstid och den har passerat."""
        return self.answer_deadline is not None and self.answer_deadline <= timezone.now()

    @property
    def answer_until(self) -> datetime:
        """Svarstiden, eller tiden själv för kampanjer från före fältet (tom svarstid)."""
        return self.answer_deadline or self.slot_at

    @property
    def shown_status(self) -> str:
        """Status för personalen; en aktiv kampanj vars svarstid eller tid har passerat visas så."""
        if self.status == self.Status.ACTIVE and not self.is_open:
            return "svarstiden har gått ut" if self.deadline_passed else "tiden har passerat"
        return self.get_status_display()


class Recipient(models.Model):
    """En patient som fått (eller ska få) frågan om den lediga tiden."""

    class SendStatus(models.TextChoices):
        """Sändningens läge; `sending` som blev kvar efter en krasch visas som osäkert."""

        QUEUED = "queued", "i kö"
        SENDING = "sending", "skickas"
        SENT = "sent", "skickat"
        FAILED = "failed", "misslyckades"
        UNCERTAIN = "uncertain", "osäkert"
        CANCELLED = "cancelled", "ej skickat (kampanjen stängd)"
        WAITING = "waiting", "väntar på sin grupp"

    class Answer(models.TextChoices):
        """Patientens svar."""

        NONE = "", "ej svarat"
        YES = "yes", "JA"
        NO = "no", "NEJ"

    class CallOutcome(models.TextChoices):
        """Vad som hände när personalen ringde en patient som svarat JA."""

        NONE = "", "ej ringd"
        BOOKED = "booked", "Bokad"
        NOT_REACHED = "not_reached", "Nådde inte"
        DECLINED = "declined", "Tackade nej i telefon"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    name = models.CharField("namn", max_length=100)
    consent = models.BooleanField("samtycke", default=False)
    phone_hash = models.CharField("nummerhash (HMAC)", max_length=64)
    phone_masked = models.CharField("maskerat nummer", max_length=20)
    phone_encrypted = models.TextField("krypterat nummer (till sändning)", blank=True)
    code = models.CharField("svarskod", max_length=32, unique=True, default=new_reply_code)
    send_status = models.CharField("sändning", max_length=16, choices=SendStatus.choices, default=SendStatus.QUEUED)
    provider = models.CharField("leverantör", max_length=32, blank=True)
    provider_message_id = models.CharField("leverantörens meddelande-id", max_length=100, blank=True)
    send_started_at = models.DateTimeField("sändning påbörjad", null=True, blank=True)
    # Alla leverantörer tillfälligt nere: mottagaren står i kö och tas inte förrän `retry_at`;
    # fönstret (CAMPAIGN_SEND_RETRY_MINUTES) räknas från `first_failure_at`.
    retry_at = models.DateTimeField("nästa försök", null=True, blank=True)
    first_failure_at = models.DateTimeField("första tillfälliga fel", null=True, blank=True)
    temporary_failures = models.PositiveSmallIntegerField("tillfälliga fel", default=0)
    sent_at = models.DateTimeField("skickat", null=True, blank=True)
    opened_at = models.DateTimeField("öppnat", null=True, blank=True)
    answer = models.CharField("svar", max_length=3, choices=Answer.choices, blank=True, default=Answer.NONE)
    answered_at = models.DateTimeField("svarstid", null=True, blank=True)
    # Ordningen bland JA (1 = ring först); sätts under lås på kampanjen, så exakt en är först.
    yes_rank = models.PositiveIntegerField("JA-ordning", null=True, blank=True)
    # Gruppen (1, 2, …) som mottagaren skickades i; tomt tills gruppen gått iväg.
    wave = models.PositiveSmallIntegerField("grupp", null=True, blank=True)
    call_outcome = models.CharField(
        "samtal", max_length=16, choices=CallOutcome.choices, blank=True, default=CallOutcome.NONE
    )
    call_outcome_at = models.DateTimeField("samtal noterat", null=True, blank=True)
    # Visningsfält som campaigns.dashboard sätter på raderna den visar; sparas inte i databasen.
    role: str
    delivery: str
    delivered_at: datetime | None
    can_reveal: bool

    class Meta:
        verbose_name = "mottagare"
        verbose_name_plural = "mottagare"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "phone_hash"], name="one_number_per_campaign"),
            models.UniqueConstraint(fields=["campaign", "yes_rank"], name="unique_yes_rank_per_campaign"),
        ]

    def __str__(self) -> str:
        """Namnet (aldrig numret)."""
        return self.name

    @property
    def first_name(self) -> str:
        """Förnamnet (första ordet i namnet), som i SMS:et."""
        return first_name(self.name)

    @property
    def shown_send_status(self) -> str:
        """Sändstatus för personalen: `sending` som hängt kvar över en minut visas som osäkert, och en
        mottagare som väntar på ett nytt försök visar när det görs ("försöker igen kl 10:42")."""
        stale = timezone.now() - SENDING_UNCERTAIN_AFTER
        if self.send_status == self.SendStatus.SENDING and (self.send_started_at or stale) <= stale:
            return self.SendStatus.UNCERTAIN.label
        if self.send_status == self.SendStatus.QUEUED and self.retry_at is not None:
            return f"försöker igen kl {timezone.localtime(self.retry_at):%H:%M}"
        return self.get_send_status_display()


class OptOut(models.Model):
    """En patient som bett att inte få fler förfrågningar: bara nyckelhashen av numret och datumet.

    Hashen är samma HMAC (PHONE_HASH_KEY) som mottagarnas; numret sparas aldrig. Raden raderas
    efter OPT_OUT_RETENTION_DAYS, eller av en administratör när patienten ringer och ångrar sig.
    """

    phone_hash = models.CharField("nummerhash (HMAC)", max_length=64, unique=True)
    created_on = models.DateField("datum", default=timezone.localdate)

    class Meta:
        verbose_name = "avböjd förfrågan (opt-out)"
        verbose_name_plural = "avböjda förfrågningar (opt-out)"
        ordering = ["-created_on"]

    def __str__(self) -> str:
        """Datumet (hashen visas aldrig i listor)."""
        return f"Opt-out {self.created_on:%Y-%m-%d}"


class CampaignSummary(models.Model):
    """Anonyma antal och tider för en kampanj, för statistiken: finns kvar när kampanjen raderats.

    Skrivs när kampanjen tar slut och skrivs om precis innan den raderas (`campaigns.summary`).
    Aldrig ett namn, ett nummer, en svarskod, en operationstyp eller vem i personalen som skapade
    den: bara kampanjens id (så att raden kan skrivas om), tider och antal.
    """

    campaign_id = models.PositiveBigIntegerField("kampanj-id", unique=True)
    started_at = models.DateTimeField("start", db_index=True)
    status = models.CharField("status", max_length=16, choices=Campaign.Status.choices)
    ended_at = models.DateTimeField("avslutad", null=True, blank=True)
    recipients = models.PositiveIntegerField("mottagare", default=0)
    sent = models.PositiveIntegerField("skickade", default=0)
    failed = models.PositiveIntegerField("misslyckade", default=0)
    delivered = models.PositiveIntegerField("levererade", default=0)
    opened = models.PositiveIntegerField("öppnade", default=0)
    answered = models.PositiveIntegerField("svarade", default=0)
    yes = models.PositiveIntegerField("JA", default=0)
    no = models.PositiveIntegerField("NEJ", default=0)
    booked = models.BooleanField("bokad från listan", default=False)
    in_waves = models.BooleanField("i grupper", default=False)
    waves = models.PositiveSmallIntegerField("skickade grupper", default=0)
    segments = models.PositiveIntegerField("SMS-delar", default=0)
    seconds_to_first_yes = models.PositiveIntegerField("sekunder till första JA", null=True, blank=True)
    seconds_to_filled = models.PositiveIntegerField("sekunder till tillsatt", null=True, blank=True)
    updated_at = models.DateTimeField("skriven", auto_now=True)

    class Meta:
        verbose_name = "kampanjstatistik"
        verbose_name_plural = "kampanjstatistik"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        """Start och utfall (inget som pekar ut en patient)."""
        return f"Kampanj {self.started_at:%Y-%m-%d %H:%M}: {self.get_status_display()}"

    @property
    def filled(self) -> bool:
        """Sant när tiden blev tillsatt (från listan eller utanför den)."""
        return self.status == Campaign.Status.FILLED
