"""SMS-registret: ett sändförsök skapas, får sitt utfall en gång och sedan sin leveransstatus.

Mönstret (som healthchecks `Notification`): raden sparas som `pending` före leverantörens
anrop, och utfallet skrivs med en villkorlig uppdatering (bara från `pending`), så en rad
som blir kvar i `pending` betyder att processen dog mitt i: osäkert, aldrig skickat igen.
Leveransrapporter skriver bara den första slutliga statusen (idempotent och monoton).
Registret sparar aldrig ett nummer eller en text; orsaker är redan tvättade (`SmsError`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from smsportal.models import AttemptStatus, DeliveryStatus, Purpose, SendAttempt

#: Försök som kan ha gått iväg och därför räknas mot kvoten: skickade, osäkra och pågående.
COUNTED_STATUSES = (AttemptStatus.PENDING, AttemptStatus.SENT, AttemptStatus.UNCERTAIN)
#: Leveransrapporternas slutliga lägen; mellanlägen sparas inte.
FINAL_DELIVERY = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)


def begin_attempt(*, purpose: Purpose, actor: Any = None, actor_username: str = "", **fields: Any) -> SendAttempt:
    """Sparar ett sändförsök som `pending` före leverantörens anrop.

    `fields`: category, template_title, edited, campaign_id, idempotency_key.
    """
    if actor is not None:
        actor_username = actor.get_username()
    return SendAttempt.objects.create(purpose=purpose, actor=actor, actor_username=actor_username, **fields)


def complete_attempt(attempt: SendAttempt, status: AttemptStatus, **fields: Any) -> bool:
    """Ger ett pågående försök sitt utfall – en gång, aldrig igen; sant om raden ändrades.

    `fields`: reason, provider, provider_message_id, segments. `attempt` får samma värden.
    """
    values = {"status": status, "finished_at": timezone.now(), **fields}
    changed = SendAttempt.objects.filter(pk=attempt.pk, status=AttemptStatus.PENDING).update(**values)
    if changed:
        for name, value in values.items():
            setattr(attempt, name, value)
    return bool(changed)


def one_way_sends_since(user: Any, since: datetime, limit: int) -> tuple[int, datetime | None]:
    """Antalet envägs-SMS som räknas mot kvoten sedan `since`, och (när de är minst `limit`)
    tidpunkten för det `limit`:e senaste, annars None.

    Räknas i databasen via kvotindexet (aktör, syfte, tid; statusen läses bara på raderna inom
    timmen), så tiden växer inte med antalet SMS: bara en rad hämtas, och bara när kvoten är full.
    """
    counted = SendAttempt.objects.filter(
        actor=user, purpose=Purpose.ONE_WAY, created_at__gt=since, status__in=COUNTED_STATUSES
    )
    used = counted.count()
    if used < limit or limit < 1:
        return used, None
    oldest_counted = counted.order_by("-created_at").values_list("created_at", flat=True)[limit - 1]
    return used, oldest_counted


def attempt_with_key(user: Any, key: str) -> SendAttempt | None:
    """Försöket som samma formulär (engångs-id) redan har gjort och som kan ha gått iväg, eller None.

    Ett misslyckat försök räknas inte: samma formulär får skickas igen när felet är åtgärdat.
    """
    if not key:
        return None
    return SendAttempt.objects.filter(
        actor=user, purpose=Purpose.ONE_WAY, idempotency_key=key, status__in=COUNTED_STATUSES
    ).first()


def recent_attempts(user: Any, since: datetime, limit: int) -> list[SendAttempt]:
    """Användarens egna senaste envägs-SMS, nyast först."""
    return list(SendAttempt.objects.filter(actor=user, purpose=Purpose.ONE_WAY, created_at__gte=since)[:limit])


def apply_delivery_report(provider: str, message_id: str, status: str) -> list[SendAttempt]:
    """Sparar en slutlig leveransstatus på det skickade SMS:et; returnerar raderna som ändrades.

    Bara första slutstatus gäller: en rapport som kommer igen, eller en sen motsatt rapport,
    ändrar ingenting. Okända meddelande-id och mellanlägen ger en tom lista.
    """
    if status not in FINAL_DELIVERY or not message_id:
        return []
    unreported = SendAttempt.objects.filter(
        provider=provider, provider_message_id=message_id[:100], status=AttemptStatus.SENT, delivery_status=""
    )
    ids = list(unreported.values_list("pk", flat=True))
    if not ids or not unreported.filter(pk__in=ids).update(delivery_status=status, delivered_at=timezone.now()):
        return []
    return list(SendAttempt.objects.filter(pk__in=ids, delivery_status=status))


class Delivery(NamedTuple):
    """Ett SMS:s leveransstatus (levererat, ej levererat eller väntar) och när rapporten kom."""

    status: str
    reported_at: datetime | None = None


def delivery_reports(provider_message_ids: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Delivery]:
    """Leveransstatus och rapportens tid för varje (leverantör, meddelande-id), i en fråga.

    Ett SMS utan rapport (eller utan rad i registret) väntar fortfarande.
    """
    reports = dict.fromkeys(provider_message_ids, Delivery(DeliveryStatus.PENDING.value))
    # Leverantören först, så att indexet (leverantör, meddelande-id) används: registret växer i fem år.
    rows = SendAttempt.objects.filter(
        provider__in={provider for provider, _ in reports},
        provider_message_id__in={message_id for _, message_id in reports},
        status=AttemptStatus.SENT,
    ).exclude(delivery_status="")
    fields = ("provider", "provider_message_id", "delivery_status", "delivered_at")
    for provider, message_id, delivery, reported_at in rows.values_list(*fields):
        if (provider, message_id) in reports:
            reports[(provider, message_id)] = Delivery(delivery, reported_at)
    return reports


def campaign_segments(campaign_ids: Iterable[int]) -> dict[int, int]:
    """SMS-delar som gått iväg för varje kampanj (erbjudanden, aviseringar och tack-SMS), i en fråga.

    Registret har kvar raderna när kampanjen raderats; en kampanj utan skickade SMS saknas i svaret.
    """
    rows = (
        SendAttempt.objects.filter(campaign_id__in=list(campaign_ids), status=AttemptStatus.SENT)
        .values("campaign_id")
        .annotate(total=Sum("segments"))
        .values_list("campaign_id", "total")
    )
    return {campaign_id: total or 0 for campaign_id, total in rows if campaign_id is not None}


def purge_ledger(now: datetime | None = None) -> int:
    """Raderar registrets rader äldre än AUDIT_RETENTION_DAYS (det nattliga schemat); returnerar antalet.

    Samma lagringstid som audit-loggen: statistiken per mall och per person, och audit-loggens
    hänvisningar till registret (`data["sms"]`), ska räcka lika länge.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    deleted, _ = SendAttempt.objects.filter(created_at__lt=cutoff).delete()
    return deleted
