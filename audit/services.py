"""Audit-loggens enda ingång: `record()`, som alla delar av portalen använder.

Åtkomstloggen (vem tittade på vilken kampanj eller logg) skrivs med `record_access()`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils import timezone

from audit.models import AccessEvent, AccessKind, Action, AuditEvent
from common.privacy import phone_like_field

#: Samma användare, samma slags visning och samma kampanj inom så här lång tid ger bara en rad i
#: åtkomstloggen: en öppen sida som pollar var 5:e sekund blir en rad per minut, inte tolv.
ACCESS_DEDUPLICATION = timedelta(minutes=1)
#: Visningar som alltid skrivs: varje export är en fil som lämnar portalen, och varje visat nummer.
ACCESS_ALWAYS_RECORDED = frozenset({AccessKind.AUDIT_CSV, AccessKind.ACCESS_CSV, AccessKind.PHONE_REVEAL})


class PersonalDataInAudit(ValueError):
    """Ett värde som skulle loggas ser ut som ett telefonnummer."""


def record(
    action: Action | str,
    *,
    actor: User | None = None,
    request: HttpRequest | None = None,
    **fields: Any,
) -> AuditEvent:
    """Skriver en audit-händelse.

    `actor` tas från `request.user` om den inte anges. Övriga fält är modellens
    metadatafält (status, reason, category, template_title, edited, segments, provider,
    data). Ett värde som liknar ett telefonnummer ger
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
    """Kastar PersonalDataInAudit om något fält (även nästlat) liknar ett telefonnummer."""
    for name, value in fields.items():
        field = phone_like_field(value, name)
        if field:
            raise PersonalDataInAudit(f"Fältet {field!r} liknar ett telefonnummer och loggas inte.")


def record_access(
    kind: AccessKind, *, user: User, campaign_id: int | None = None, recipient_id: int | None = None
) -> AccessEvent | None:
    """Skriver att `user` tittade på något (en kampanj, en logg, ett nummer) i åtkomstloggen.

    Bara id:n sparas (`recipient_id`: vems nummer som visades). En likadan visning (samma användare, slag och kampanj) under den senaste
    minuten ger ingen ny rad (ACCESS_DEDUPLICATION), utom för exporter. Returnerar den nya raden,
    eller None när en likadan redan fanns.
    """
    recent = AccessEvent.objects.filter(
        actor=user, kind=kind, campaign_id=campaign_id, created_at__gt=timezone.now() - ACCESS_DEDUPLICATION
    )
    if kind not in ACCESS_ALWAYS_RECORDED and recent.exists():
        return None
    return AccessEvent.objects.create(
        kind=kind,
        actor=user,
        actor_username=user.get_username(),
        campaign_id=campaign_id,
        recipient_id=recipient_id,
    )


def purge_audit_log(now: datetime | None = None) -> int:
    """Raderar audit-händelser äldre än AUDIT_RETENTION_DAYS (det nattliga schemat); returnerar antalet.

    Loggens enda radering: i klump efter ålder, aldrig en enskild rad (modellen vägrar).
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    deleted, _ = AuditEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def purge_access_log(now: datetime | None = None) -> int:
    """Raderar åtkomstloggens rader äldre än ACCESS_LOG_RETENTION_DAYS; returnerar antalet."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ACCESS_LOG_RETENTION_DAYS)
    deleted, _ = AccessEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted
