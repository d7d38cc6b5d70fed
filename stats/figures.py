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
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from campaigns.messages import sms_cost
from campaigns.models import Campaign, CampaignSummary
from campaigns.summary import summaries
from smsportal.models import AttemptStatus, DeliveryStatus, Purpose, SendAttempt

#: Antal månader som sidan visar, den innevarande inräknad.
MONTHS_SHOWN = 12
#: Antal som summeras rakt av från kampanjraderna.
_COUNTED = ("recipients", "sent", "failed", "delivered", "opened", "answered", "yes", "no", "segments")
#: Osäkra envägs-SMS: utfallet okänt, eller kvar som pågående (processen dog mitt i).
_UNCERTAIN = (AttemptStatus.UNCERTAIN, AttemptStatus.PENDING)


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

    def add(self, summary: CampaignSummary) -> None:
        """Lägger en kampanjs rad till månaden."""
        self.add_counts(
            campaigns=1,
            filled=int(summary.filled),
            in_waves=int(summary.in_waves),
            waves=summary.waves if summary.in_waves else 0,
            **{name: getattr(summary, name) for name in _COUNTED},
        )
        self.add_durations(summary.seconds_to_first_yes, summary.seconds_to_filled)

    def add_counts(self, **counts: int | None) -> None:
        """Lägger antal (fälten med samma namn) till månaden; None räknas som noll."""
        for name, value in counts.items():
            setattr(self, name, getattr(self, name) + (value or 0))

    def add_durations(self, to_first_yes: int | None, to_filled: int | None) -> None:
        """Lägger en kampanjs tider (sekunder, None = ingen) till månaden."""
        if to_first_yes is not None:
            self.to_first_yes.append(to_first_yes)
        if to_filled is not None:
            self.to_filled.append(to_filled)

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


def month_starts(months: list[date]) -> list[datetime]:
    """Månadernas början i klinikens tid, och början av månaden efter den sista (13 gränser för 12 månader)."""
    last = months[-1]
    after = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    return [timezone.make_aware(datetime(m.year, m.month, 1)) for m in [*months, after]]


def month_bucket(field_name: str, months: list[date]) -> Case:
    """Månadens nummer i `months` (0 = äldst) för tidpunkten i fältet, uträknat i databasen; None
    för tider utanför. Gränserna är klinikens midnatt, så ingen tidszonsfunktion behövs per rad."""
    bounds = month_starts(months)
    whens = [
        When(**{f"{field_name}__gte": start, f"{field_name}__lt": end}, then=Value(index))
        for index, (start, end) in enumerate(pairwise(bounds))
    ]
    return Case(*whens, default=None, output_field=IntegerField())


def campaign_months(months: list[date]) -> tuple[list[CampaignMonth], CampaignMonth]:
    """Kampanjerna per månad i `months` och totalen över alla kampanjer någonsin.

    Kampanjer som finns räknas ur sina mottagare (`summaries`), raderade ur sina sparade rader,
    summerade per månad i databasen; tiderna (för median och percentil) hämtas som heltal.
    """
    by_month = [CampaignMonth(month) for month in months]
    total = CampaignMonth(None)
    live = summaries(Campaign.objects.all())
    for summary in live:
        total.add(summary)
        index = _month_index(summary.started_at, months)
        if index is not None:
            by_month[index].add(summary)
    stored = (
        CampaignSummary.objects.exclude(campaign_id__in=[summary.campaign_id for summary in live])
        .annotate(bucket=month_bucket("started_at", months))
        .order_by()
    )
    sums = {f"{name}_sum": Sum(name) for name in _COUNTED}
    groups = stored.values("bucket").annotate(
        campaign_count=Count("id"),
        filled_count=Count("id", filter=Q(status=Campaign.Status.FILLED)),
        in_waves_count=Count("id", filter=Q(in_waves=True)),
        waves_sum=Sum("waves", filter=Q(in_waves=True)),
        **sums,
    )
    for group in groups:
        counts = {name: group[f"{name}_sum"] for name in _COUNTED}
        for target in _targets(group["bucket"], by_month, total):
            target.add_counts(
                campaigns=group["campaign_count"],
                filled=group["filled_count"],
                in_waves=group["in_waves_count"],
                waves=group["waves_sum"],
                **counts,
            )
    durations = stored.filter(Q(seconds_to_first_yes__isnull=False) | Q(seconds_to_filled__isnull=False))
    for bucket, to_first_yes, to_filled in durations.values_list("bucket", "seconds_to_first_yes", "seconds_to_filled"):
        for target in _targets(bucket, by_month, total):
            target.add_durations(to_first_yes, to_filled)
    return by_month, total


def _month_index(moment: datetime, months: list[date]) -> int | None:
    """Månadens nummer i `months` för en tidpunkt (klinikens tid), None utanför."""
    month = timezone.localtime(moment).date().replace(day=1)
    return months.index(month) if month in months else None


def _targets(bucket: int | None, by_month: list[CampaignMonth], total: CampaignMonth) -> list[CampaignMonth]:
    """Totalen, och månaden om gruppen ligger bland de visade."""
    return [total] if bucket is None else [total, by_month[bucket]]


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


def _one_way(row: dict[str, Any]) -> OneWayMonth:
    """En grupps siffror ur en rad med `_one_way_counts`."""
    return OneWayMonth(
        None,
        sent=row["sent_count"],
        failed=row["failed_count"],
        uncertain=row["uncertain_count"],
        delivered=row["delivered_count"],
        segments=row["segment_sum"] or 0,
    )


def since(months: list[date]) -> datetime:
    """Början av den första visade månaden, i klinikens tid."""
    return month_starts(months)[0]


@dataclass
class TemplateFigures:
    """Envägs-SMS för en mall under de visade månaderna."""

    category: str
    template_title: str
    figures: OneWayMonth


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


def one_way_months(months: list[date]) -> tuple[list[OneWayMonth], OneWayMonth]:
    """Envägs-SMS per månad i `months` och totalen över hela registret, i en fråga: rader före de
    visade månaderna får ingen månad och räknas bara i totalen."""
    by_month = [OneWayMonth(month) for month in months]
    total = OneWayMonth(None)
    monthly = one_way_attempts().annotate(bucket=month_bucket("created_at", months)).order_by()
    for row in monthly.values("bucket").annotate(**_one_way_counts()):
        figures = _one_way(row)
        total.add(figures)
        if row["bucket"] is not None:
            by_month[row["bucket"]].add(figures)
    return by_month, total


def one_way_templates(months: list[date]) -> list[TemplateFigures]:
    """Envägs-SMS per mallkategori och mall under de visade månaderna, flest skickade först."""
    rows = (
        one_way_attempts()
        .filter(created_at__gte=since(months))
        .values("category", "template_title")
        .annotate(**_one_way_counts())
        .order_by("-sent_count", "category", "template_title")
    )
    return [TemplateFigures(row["category"], row["template_title"], _one_way(row)) for row in rows]


def one_way_by_staff(months: list[date]) -> list[StaffFigures]:
    """Skickade envägs-SMS per person och månad (bara för administratörer), flest först."""
    per_user: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    sent = one_way_attempts().filter(created_at__gte=since(months), status=AttemptStatus.SENT)
    rows = sent.annotate(bucket=month_bucket("created_at", months)).order_by().values("actor_username", "bucket")
    for row in rows.annotate(count=Count("id")):
        if row["bucket"] is not None:
            per_user[row["actor_username"] or "okänd"][row["bucket"]] += row["count"]
    staff = [StaffFigures(username, counts) for username, counts in per_user.items()]
    return sorted(staff, key=lambda person: (-person.total, person.username))
