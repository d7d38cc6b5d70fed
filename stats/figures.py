"""Statistikens siffror per månad: akut-SMS-kampanjer ur de anonyma kampanjraderna och envägs-SMS
ur SMS-registret.

Kampanjer som fortfarande finns räknas direkt ur sina mottagare (`campaigns.summary.summaries`),
raderade ur sin sparade rad (`CampaignSummary`, skriven om precis före raderingen): därför är en
månads siffror desamma före och efter raderingen. En kampanj hör till månaden då den startade,
ett SMS till månaden då det skickades (klinikens tid). Allt hämtas i ett fåtal frågor oavsett antal.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from campaigns.models import Campaign, CampaignSummary
from campaigns.summary import summaries
from smsportal.models import AttemptStatus, DeliveryStatus, Purpose, SendAttempt

#: Antal månader som sidan visar, den innevarande inräknad.
MONTHS_SHOWN = 12
#: Kolumnerna som statistiken läser ur en kampanjrad (samma för sparade och direkt uträknade).
_SUMMARY_COLUMNS = (
    "campaign_id",
    "started_at",
    "status",
    "recipients",
    "sent",
    "failed",
    "delivered",
    "opened",
    "answered",
    "yes",
    "no",
    "in_waves",
    "waves",
    "segments",
    "seconds_to_first_yes",
    "seconds_to_filled",
)
#: Antal som summeras rakt av från kampanjraderna.
_COUNTED = ("recipients", "sent", "failed", "delivered", "opened", "answered", "yes", "no", "segments")
#: Osäkra envägs-SMS: utfallet okänt, eller kvar som pågående (processen dog mitt i).
_UNCERTAIN = (AttemptStatus.UNCERTAIN, AttemptStatus.PENDING)


def sms_cost(segments: int) -> float:
    """Kostnaden i kronor för så många SMS-delar (SMS_PRICE_PER_SEGMENT_SEK per del)."""
    return segments * settings.SMS_PRICE_PER_SEGMENT_SEK


def median(values: list[int]) -> float | None:
    """Medianen (mitten, eller medelvärdet av de två i mitten); None för en tom lista."""
    return statistics.median(values) if values else None


def percentile_90(values: list[int]) -> float | None:
    """90:e percentilen enligt närmaste rang: det minsta värdet som minst 90 % av värdena inte överstiger."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


@dataclass
class CampaignMonth:
    """Akut-SMS-kampanjer som startade under en månad (eller alla, för totalen)."""

    month: date | None
    campaigns: int = 0
    filled: int = 0
    recipients: int = 0
    sent: int = 0
    failed: int = 0
    delivered: int = 0
    opened: int = 0
    answered: int = 0
    yes: int = 0
    no: int = 0
    in_waves: int = 0
    waves: int = 0
    segments: int = 0
    to_first_yes: list[int] = field(default_factory=list)
    to_filled: list[int] = field(default_factory=list)

    def add(self, row: dict[str, Any]) -> None:
        """Lägger en kampanjrad (kolumnerna i `_SUMMARY_COLUMNS`) till månaden."""
        self.campaigns += 1
        self.filled += row["status"] == Campaign.Status.FILLED
        for name in _COUNTED:
            setattr(self, name, getattr(self, name) + row[name])
        if row["in_waves"]:
            self.in_waves += 1
            self.waves += row["waves"]
        if row["seconds_to_first_yes"] is not None:
            self.to_first_yes.append(row["seconds_to_first_yes"])
        if row["seconds_to_filled"] is not None:
            self.to_filled.append(row["seconds_to_filled"])

    def merge(self, other: CampaignMonth) -> None:
        """Lägger en annan månads siffror till den här."""
        for name in ("campaigns", "filled", "in_waves", "waves", *_COUNTED):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.to_first_yes += other.to_first_yes
        self.to_filled += other.to_filled

    @property
    def fill_rate(self) -> float | None:
        """Andel kampanjer vars tid blev tillsatt (0–1); None utan kampanjer."""
        return self.filled / self.campaigns if self.campaigns else None

    @property
    def cost(self) -> float:
        """SMS-kostnaden i kronor."""
        return sms_cost(self.segments)

    @property
    def value(self) -> int:
        """Återvunnet värde i kronor: tillsatta tider × SLOT_VALUE_SEK."""
        return self.filled * settings.SLOT_VALUE_SEK

    @property
    def value_per_cost(self) -> float | None:
        """Återvunnet värde delat med SMS-kostnaden; None när inget kostat."""
        return self.value / self.cost if self.cost else None

    @property
    def median_first_yes(self) -> float | None:
        """Median av sekunder från start till första JA."""
        return median(self.to_first_yes)

    @property
    def p90_first_yes(self) -> float | None:
        """90:e percentilen av sekunder från start till första JA."""
        return percentile_90(self.to_first_yes)

    @property
    def median_filled(self) -> float | None:
        """Median av sekunder från start till tillsatt."""
        return median(self.to_filled)

    @property
    def p90_filled(self) -> float | None:
        """90:e percentilen av sekunder från start till tillsatt."""
        return percentile_90(self.to_filled)


@dataclass
class OneWayMonth:
    """Envägs-SMS under en månad (eller alla, för totalen)."""

    month: date | None
    sent: int = 0
    failed: int = 0
    uncertain: int = 0
    delivered: int = 0
    segments: int = 0

    def add(self, other: OneWayMonth) -> None:
        """Lägger en annan månads siffror till den här (för totalen)."""
        for name in ("sent", "failed", "uncertain", "delivered", "segments"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def cost(self) -> float:
        """SMS-kostnaden i kronor."""
        return sms_cost(self.segments)


def last_months(today: date, count: int = MONTHS_SHOWN) -> list[date]:
    """De `count` senaste månadernas första dagar, äldst först, den innevarande sist."""
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def _month_of(moment: datetime) -> date:
    """Månaden (första dagen) då något hände, i klinikens tid."""
    return timezone.localtime(moment).date().replace(day=1)


def campaign_rows() -> Iterable[dict[str, Any]]:
    """En rad per kampanj någonsin: direkt uträknad för dem som finns, den sparade för raderade."""
    live = summaries(Campaign.objects.all())
    live_ids = {row.campaign_id for row in live}
    for summary in live:
        yield {column: getattr(summary, column) for column in _SUMMARY_COLUMNS}
    for row in CampaignSummary.objects.values(*_SUMMARY_COLUMNS).iterator():
        if row["campaign_id"] not in live_ids:
            yield row


def campaign_months(months: list[date]) -> tuple[list[CampaignMonth], CampaignMonth]:
    """Kampanjerna per månad i `months` och totalen över alla kampanjer någonsin."""
    by_month = {month: CampaignMonth(month) for month in months}
    total = CampaignMonth(None)
    for row in campaign_rows():
        total.add(row)
        month = by_month.get(_month_of(row["started_at"]))
        if month is not None:
            month.add(row)
    return list(by_month.values()), total


def one_way_attempts() -> QuerySet[SendAttempt]:
    """Envägs-SMS i registret (rader som blev ett sändförsök; ett ogiltigt formulär blir aldrig det)."""
    return SendAttempt.objects.filter(purpose=Purpose.ONE_WAY)


def _one_way_counts() -> dict[str, Any]:
    """Aggregaten för envägs-SMS, samma i varje gruppering."""
    return {
        "sent_count": Count("id", filter=Q(status=AttemptStatus.SENT)),
        "failed_count": Count("id", filter=Q(status=AttemptStatus.FAILED)),
        "uncertain_count": Count("id", filter=Q(status__in=_UNCERTAIN)),
        "delivered_count": Count("id", filter=Q(status=AttemptStatus.SENT, delivery_status=DeliveryStatus.DELIVERED)),
        "segment_sum": Sum("segments", filter=Q(status=AttemptStatus.SENT)),
    }


def _one_way(month: date | None, row: dict[str, Any]) -> OneWayMonth:
    """En grupps siffror ur en rad med `_one_way_counts`."""
    return OneWayMonth(
        month,
        sent=row["sent_count"],
        failed=row["failed_count"],
        uncertain=row["uncertain_count"],
        delivered=row["delivered_count"],
        segments=row["segment_sum"] or 0,
    )


def one_way_months(months: list[date]) -> tuple[list[OneWayMonth], OneWayMonth]:
    """Envägs-SMS per månad i `months` och totalen över hela registret, i en fråga."""
    by_month = {month: OneWayMonth(month) for month in months}
    total = OneWayMonth(None)
    rows = (
        one_way_attempts()
        .annotate(month=TruncMonth("created_at", tzinfo=timezone.get_current_timezone()))
        .values("month")
        .annotate(**_one_way_counts())
    )
    for row in rows:
        figures = _one_way(row["month"].date(), row)
        total.add(figures)
        if figures.month in by_month:
            by_month[figures.month].add(figures)
    return list(by_month.values()), total


def since(months: list[date]) -> datetime:
    """Början av den första visade månaden, i klinikens tid."""
    first = months[0]
    return timezone.make_aware(datetime(first.year, first.month, 1))


@dataclass
class TemplateFigures:
    """Envägs-SMS för en mall under de visade månaderna."""

    category: str
    template_title: str
    figures: OneWayMonth


def one_way_templates(months: list[date]) -> list[TemplateFigures]:
    """Envägs-SMS per mallkategori och mall under de visade månaderna, flest skickade först."""
    rows = (
        one_way_attempts()
        .filter(created_at__gte=since(months))
        .values("category", "template_title")
        .annotate(**_one_way_counts())
        .order_by("-sent_count", "category", "template_title")
    )
    return [TemplateFigures(row["category"], row["template_title"], _one_way(None, row)) for row in rows]


def one_way_failures(months: list[date]) -> list[tuple[str, int]]:
    """Misslyckade envägs-SMS per orsak under de visade månaderna, vanligast först."""
    rows = (
        one_way_attempts()
        .filter(created_at__gte=since(months), status=AttemptStatus.FAILED)
        .values("reason")
        .annotate(count=Count("id"))
        .order_by("-count", "reason")
    )
    return [(row["reason"] or "okänd orsak", row["count"]) for row in rows]


@dataclass
class StaffFigures:
    """Skickade envägs-SMS för en i personalen, per visad månad."""

    username: str
    per_month: list[int]

    @property
    def total(self) -> int:
        """Summan över de visade månaderna."""
        return sum(self.per_month)


def one_way_by_staff(months: list[date]) -> list[StaffFigures]:
    """Skickade envägs-SMS per person och månad (bara för administratörer), flest först."""
    index = {month: position for position, month in enumerate(months)}
    per_user: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    rows = (
        one_way_attempts()
        .filter(created_at__gte=since(months), status=AttemptStatus.SENT)
        .annotate(month=TruncMonth("created_at", tzinfo=timezone.get_current_timezone()))
        .values("actor_username", "month")
        .annotate(count=Count("id"))
    )
    for row in rows:
        position = index.get(row["month"].date())
        if position is not None:
            per_user[row["actor_username"] or "okänd"][position] += row["count"]
    staff = [StaffFigures(username, counts) for username, counts in per_user.items()]
    return sorted(staff, key=lambda person: (-person.total, person.username))
