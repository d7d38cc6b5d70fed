"""Patienter som bett att inte få fler förfrågningar ("Jag vill inte få fler sådana SMS").

Bara nyckelhashen av numret (samma HMAC med PHONE_HASH_KEY som mottagarnas `phone_hash`) och
datumet sparas (`OptOut`), aldrig numret. Raderna raderas efter OPT_OUT_RETENTION_DAYS
(`purge_opt_outs`, varje natt), eller av en administratör när patienten ringer och ångrar sig
(`remove_opt_out`, numret hashas direkt och sparas inte). En ny kampanj lämnar ut rader vars
nummer avböjt (`leave_out_opted_out`) och namnger dem för personalen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from audit.models import Action
from audit.services import record
from campaigns.models import OptOut, Recipient
from campaigns.phones import phone_hash
from campaigns.recipients import ParsedRecipient


def opt_out(recipient: Recipient) -> bool:
    """Sparar att mottagarens nummer inte ska få fler förfrågningar; sant om det är nytt.

    Idempotent: en andra gång (dubbelklick, annan länk) ändrar ingenting, inte heller datumet.
    """
    try:
        with transaction.atomic():
            _, created = OptOut.objects.get_or_create(phone_hash=recipient.phone_hash)
    except IntegrityError:
        # Två samtidiga klick: den andra hittar den första raden.
        return False
    if created:
        record(Action.OPT_OUT_ADDED, actor_username="patient", status="avböjt")
    return created


def opted_out() -> Exists:
    """Uttrycket "mottagarens nummer har bett att inte få fler förfrågningar", för en fråga på mottagare."""
    return Exists(OptOut.objects.filter(phone_hash=OuterRef("phone_hash")))


@dataclass(frozen=True)
class OptOutFilter:
    """Mottagarna som får SMS och ett svenskt meddelande per rad som lämnas ut."""

    recipients: list[ParsedRecipient]
    notices: list[str]


def leave_out_opted_out(recipients: list[ParsedRecipient]) -> OptOutFilter:
    """Tar bort rader vars nummer avböjt fler förfrågningar och namnger dem (rad och namn, aldrig numret)."""
    hashes = {parsed.line: phone_hash(parsed.phone) for parsed in recipients}
    declined = set(OptOut.objects.filter(phone_hash__in=hashes.values()).values_list("phone_hash", flat=True))
    kept = [parsed for parsed in recipients if hashes[parsed.line] not in declined]
    notices = [
        f"Rad {parsed.line}: {parsed.name} har bett att inte få fler förfrågningar och får inget SMS."
        for parsed in recipients
        if hashes[parsed.line] in declined
    ]
    return OptOutFilter(recipients=kept, notices=notices)


def remove_opt_out(e164: str, *, actor: User | None = None) -> bool:
    """Tar bort avböjandet för numret (patienten har ringt och vill få förfrågningar igen).

    Numret hashas direkt och sparas eller loggas aldrig; audit får bara händelsen. Sant om en
    rad fanns och togs bort.
    """
    deleted, _ = OptOut.objects.filter(phone_hash=phone_hash(e164)).delete()
    if deleted:
        record(Action.OPT_OUT_REMOVED, actor=actor, status="borttaget")
    return bool(deleted)


def purge_opt_outs(now: datetime | None = None) -> int:
    """Raderar avböjanden äldre än OPT_OUT_RETENTION_DAYS (django-q2-schema varje natt)."""
    today = timezone.localdate(now or timezone.now())
    cutoff = today - timedelta(days=settings.OPT_OUT_RETENTION_DAYS)
    deleted, _ = OptOut.objects.filter(created_on__lt=cutoff).delete()
    return deleted
