"""Audit-loggens enda ingång: `record()`, som alla delar av portalen använder."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from audit.models import Action, AuditEvent, DeliveryReport, DeliveryStatus

# Slumpade identifierare (formulär-id, leverantörens meddelande-id) kan innehålla sifferserier.
_IDENTIFIER_FIELDS = frozenset({"request_id", "provider_message_id"})
# Sju eller fler siffror i följd (med vanliga skiljetecken) ser ut som ett telefonnummer.
_PHONE_LIKE = re.compile(r"\+?\d(?:[\s\-().]*\d){6,}")


class PersonalDataInAudit(ValueError):
    """Ett värde som skulle loggas ser ut som ett telefonnummer."""


def _check_no_phone_number(value: Any, field: str) -> None:
    """Vägrar strängar (även i nästlade strukturer) som innehåller något som liknar ett nummer."""
    if isinstance(value, str):
        if _PHONE_LIKE.search(value):
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
    for name, value in fields.items():
        if name not in _IDENTIFIER_FIELDS:
            _check_no_phone_number(value, name)
    username = actor.get_username() if actor is not None else fields.pop("actor_username", "")
    return AuditEvent.objects.create(
        action=str(action), actor=actor, actor_username=username, **fields
    )


def record_delivery(provider: str, message_id: str, status: DeliveryStatus | str) -> bool:
    """Sparar en slutlig leveransstatus; sant bara första gången (idempotent och monoton)."""
    if status not in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED) or not message_id:
        return False
    _, created = DeliveryReport.objects.get_or_create(
        provider=provider, message_id=message_id[:100], defaults={"status": status}
    )
    return created
