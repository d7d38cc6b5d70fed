"""Audit-loggens enda ingång: `record()`, som alla delar av portalen använder.

Åtkomstloggen (vem tittade på vilken kampanj eller logg) skrivs med `record_access()`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import timezone

from audit.models import AccessEvent, AccessKind, Action, AuditEvent, DeliveryReport, DeliveryStatus

# Slumpade identifierare (formulär-id, leverantörens meddelande-id) kan innehålla sifferserier.
_IDENTIFIER_FIELDS = frozenset({"request_id", "provider_message_id"})
# Sju eller fler siffror i följd (med vanliga skiljetecken): tvättas bort ur externa texter.
_PHONE_LIKE = re.compile(r"\+?\d(?:[\s\-().]*\d){6,}")
#: Status för ett SMS-försök som loggats före sändningen och ännu inte fått sitt utfall.
STATUS_PENDING = "skickas"
#: Samma användare, samma slags visning och samma kampanj inom så här lång tid ger bara en rad i
#: åtkomstloggen: en öppen sida som pollar var 5:e sekund blir en rad per minut, inte tolv.
ACCESS_DEDUPLICATION = timedelta(minutes=1)
#: Visningar som alltid skrivs: varje export är en fil som lämnar portalen.
ACCESS_ALWAYS_RECORDED = frozenset({AccessKind.AUDIT_CSV, AccessKind.ACCESS_CSV})


def looks_like_phone_number(text: str) -> bool:
    """Sant om texten innehåller ett giltigt telefonnummer (svenskt eller internationellt).

    Bygger på phonenumbers, så datum och årtal ("Stängt 2026-12-24") räknas inte.
    """
    matcher = phonenumbers.PhoneNumberMatcher(text, "SE", leniency=phonenumbers.Leniency.VALID)
    return matcher.has_next()


class PersonalDataInAudit(ValueError):
    """Ett värde som skulle loggas ser ut som ett telefonnummer."""


def _check_no_phone_number(value: Any, field: str) -> None:
    """Vägrar strängar (även i nästlade strukturer) som innehåller något som liknar ett nummer."""
    if isinstance(value, str):
        if looks_like_phone_number(value):
            raise PersonalDataInAudit(f"Fältet {field!r} liknar ett telefonnummer och loggas inte.")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_no_phone_number(str(key), field)
            _check_no_phone_number(item, f"{field}.{key}")
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_no_phone_number(item, field)


def redact_phone_numbers(text: str) -> str:
    """Ersätter allt som liknar ett telefonnummer (t.ex. i en leverantörs felsvar) med [nummer]."""
    return _PHONE_LIKE.sub("[nummer]", text)


def record(
    action: Action | str,
    *,
    actor: AbstractBaseUser | None = None,
    request: HttpRequest | None = None,
    **fields: Any,
) -> AuditEvent:
    """Skriver en audit-händelse.

    `actor` tas från `request.user` om den inte anges. Övriga fält är modellens
    metadatafält (status, reason, category, template_title, edited, segments, provider,
    provider_message_id, data). Ett värde som liknar ett telefonnummer ger
    `PersonalDataInAudit` i stället för att hamna i loggen.
    """
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    username = fields.pop("actor_username", "")
    if actor is not None:
        username = actor.get_username()
    check_fields(fields)
    return AuditEvent.objects.create(action=str(action), actor=actor, actor_username=username, **fields)


def check_fields(fields: dict[str, Any]) -> None:
    """Kastar PersonalDataInAudit om något fält liknar ett telefonnummer (id-fälten undantagna)."""
    for name, value in fields.items():
        if name not in _IDENTIFIER_FIELDS:
            _check_no_phone_number(value, name)


def complete(event: AuditEvent, **fields: Any) -> bool:
    """Ger ett SMS-försök som loggades före sändningen sitt utfall – en gång, aldrig igen.

    Loggen är annars oföränderlig: bara en händelse med status "skickas" kan få utfall
    (skickat, misslyckat, osäkert). Blir den kvar (processen dog mitt i) betyder den osäkert.
    """
    check_fields(fields)
    return bool(AuditEvent.objects.filter(pk=event.pk, status=STATUS_PENDING).update(**fields))


def record_delivery(provider: str, message_id: str, status: DeliveryStatus | str) -> bool:
    """Sparar en slutlig leveransstatus; sant bara första gången (idempotent och monoton)."""
    if status not in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED) or not message_id:
        return False
    _, created = DeliveryReport.objects.get_or_create(
        provider=provider, message_id=message_id[:100], defaults={"status": status}
    )
    return created


def with_delivery_status(events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
    """Lägger till leveransstatus (levererat / ej levererat) från leveransrapporterna."""
    reports = DeliveryReport.objects.filter(
        provider=OuterRef("provider"), message_id=OuterRef("provider_message_id")
    ).values("status")[:1]
    return events.annotate(delivery_report=Subquery(reports))


def delivery_label(event: AuditEvent) -> str:
    """Leveransstatus för ett skickat SMS: rapportens status, annars "väntar"."""
    if event.action != Action.SMS_SENT:
        return ""
    return getattr(event, "delivery_report", None) or DeliveryStatus.PENDING


def record_access(kind: AccessKind, *, user: AbstractBaseUser, campaign_id: int | None = None) -> AccessEvent | None:
    """Skriver att `user` tittade på något (en kampanj eller en logg) i åtkomstloggen.

    Bara id:n sparas. En likadan visning (samma användare, slag och kampanj) under den senaste
    minuten ger ingen ny rad (ACCESS_DEDUPLICATION), utom för exporter. Returnerar den nya raden,
    eller None när en likadan redan fanns.
    """
    recent = AccessEvent.objects.filter(
        actor=user, kind=kind, campaign_id=campaign_id, created_at__gt=timezone.now() - ACCESS_DEDUPLICATION
    )
    if kind not in ACCESS_ALWAYS_RECORDED and recent.exists():
        return None
    return AccessEvent.objects.create(
        kind=kind, actor=user, actor_username=user.get_username(), campaign_id=campaign_id
    )


def purge_audit_log(now: datetime | None = None) -> int:
    """Raderar audit-händelser äldre än AUDIT_RETENTION_DAYS (det nattliga schemat); returnerar antalet.

    Loggens enda radering: i klump efter ålder, aldrig en enskild rad (modellen vägrar). Leverans-
    rapporter lika gamla raderas också: de visas bara vid sina SMS-händelser.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    DeliveryReport.objects.filter(received_at__lt=cutoff).delete()
    deleted, _ = AuditEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def purge_access_log(now: datetime | None = None) -> int:
    """Raderar åtkomstloggens rader äldre än ACCESS_LOG_RETENTION_DAYS; returnerar antalet."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ACCESS_LOG_RETENTION_DAYS)
    deleted, _ = AccessEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted
