"""Sändning i grupper och svarstiden: nästa grupp, paus vid JA, tyst tid och stängning vid svarstiden.

En kampanj i grupper (`wave_size` satt) skapar alla mottagare som väntande (`waiting`, numret
krypterat som för köade). En grupp släpps genom att de `wave_size` första väntande (klistrad
ordning = stigande id) blir köade med sitt gruppnummer, och deras sändjobb köas som vanligt
(`campaigns.dispatch`). Hela schemat står i databasen (`waves_sent`, `next_wave_at`): en
arbetsprocess som dör mellan grupperna tappar ingenting, minutschemat tar nästa grupp.

Att en grupp släpps är en villkorlig uppdatering av kampanjen (`waves_sent = n → n + 1`): två
schemakörningar eller två klick samtidigt släpper aldrig samma grupp två gånger, och ingen
grupp hoppas över. Varje släppt grupp loggas i audit (vem, grupp, antal), och kampanjsidans
grupplista läses därifrån.

Minutschemat (`campaigns.tasks.requeue_stuck_work`) stänger kampanjer vars svarstid har passerat (som när personalen
trycker Avsluta, men av "system") och släpper grupper som är aktuella: bara medan kampanjen är
öppen, utanför tyst tid (CAMPAIGN_QUIET_HOURS) och, med "Pausa när någon svarat JA", bara när
inget JA väntar på att bli uppringt (svar JA utan noterat samtal).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from audit.models import Action, AuditEvent
from audit.services import record
from campaigns.dispatch import cancel_unsendable, enqueue_recipients, open_campaigns
from campaigns.events import campaign_changed
from campaigns.models import Campaign, OptOut, Recipient
from campaigns.summary import save_summaries

logger = logging.getLogger(__name__)


def quiet_hours() -> tuple[int, int] | None:
    """Tyst tid som (från timme, till timme) ur CAMPAIGN_QUIET_HOURS, t.ex. (20, 7); None = ingen."""
    value = settings.CAMPAIGN_QUIET_HOURS
    if not value:
        return None
    start, end = (int(part) for part in value.split("-"))
    return None if start == end else (start, end)


def quiet_until(moment: datetime) -> datetime | None:
    """Slutet på den tysta tiden som `moment` ligger i (klinikens tid), eller None utanför den."""
    hours = quiet_hours()
    if hours is None:
        return None
    start, end = hours
    local = timezone.localtime(moment)
    if start < end:
        inside, end_day = start <= local.hour < end, local.date()
    else:
        inside = local.hour >= start or local.hour < end
        end_day = local.date() + timedelta(days=1) if local.hour >= start else local.date()
    if not inside:
        return None
    return timezone.make_aware(datetime.combine(end_day, time(end)))


def waiting_for_call(campaign: Campaign) -> bool:
    """Sant när någon svarat JA och ännu inte ringts (inget samtal noterat)."""
    return campaign.recipients.filter(answer=Recipient.Answer.YES, call_outcome=Recipient.CallOutcome.NONE).exists()


def release_wave(campaign_id: int, *, expected: int, actor: Any = None, enqueue: bool = True) -> int:
    """Släpper grupp `expected + 1`: nästa `wave_size` väntande blir köade och deras jobb köas.

    `expected` är antalet redan skickade grupper som anroparen såg; har någon annan hunnit
    släppa en grupp (eller kampanjen stängts) släpps ingenting. `actor` är personalen som
    tryckte "Skicka nästa grupp nu" (None = minutschemat eller skapandet, loggas som system).
    `enqueue` falskt: anroparen köar jobben själv (skapandet köar alla köade på en gång).
    Returnerar antalet mottagare i gruppen (0 = ingen grupp släpptes).
    """
    now = timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.filter(pk=campaign_id, waves_sent=expected).first()
        if campaign is None or not campaign.wave_size or not campaign.is_open:
            return 0
        waiting = campaign.recipients.filter(send_status=Recipient.SendStatus.WAITING)
        # Har patienten sedan listan klistrades in bett att inte få fler förfrågningar (i en
        # annan kampanj) skickas inget: mottagaren avbryts och numret raderas.
        waiting.filter(Exists(OptOut.objects.filter(phone_hash=OuterRef("phone_hash")))).update(
            send_status=Recipient.SendStatus.CANCELLED, phone_encrypted=""
        )
        ids = list(waiting.order_by("pk").values_list("pk", flat=True)[: campaign.wave_size])
        if not ids:
            return 0
        # Villkoret på waves_sent gör att bara en av två samtidiga släpper gruppen; den andra
        # väntar på radlåset och ser sedan att villkoret inte längre stämmer.
        claimed = Campaign.objects.filter(open_campaigns(now), pk=campaign_id, waves_sent=expected).update(
            waves_sent=expected + 1, next_wave_at=now + timedelta(minutes=campaign.wave_minutes)
        )
        if not claimed:
            return 0
        number = expected + 1
        released = Recipient.objects.filter(pk__in=ids, send_status=Recipient.SendStatus.WAITING).update(
            send_status=Recipient.SendStatus.QUEUED, wave=number
        )
        record(
            Action.CAMPAIGN_WAVE_SENT,
            actor=actor,
            actor_username="" if actor is not None else "system",
            status=f"grupp {number}",
            data={"kampanj": campaign_id, "grupp": number, "mottagare": released},
        )
        campaign_changed(campaign_id)
        if enqueue:
            transaction.on_commit(lambda: enqueue_recipients(campaign_id, ids), robust=True)
    logger.info("Kampanj %s: grupp %s släppt (%s mottagare)", campaign_id, number, released)
    return released


def release_due_waves(now: datetime | None = None) -> int:
    """Minutschemat: släpper nästa grupp i varje öppen kampanj där den är aktuell.

    Inte under tyst tid, och inte medan ett JA väntar på att ringas (med "Pausa när någon
    svarat JA"). Returnerar antalet mottagare som släpptes.
    """
    now = now or timezone.now()
    if quiet_until(now) is not None:
        return 0
    due = Campaign.objects.filter(
        open_campaigns(now),
        wave_size__isnull=False,
        next_wave_at__lte=now,
        recipients__send_status=Recipient.SendStatus.WAITING,
    ).distinct()
    released = 0
    for campaign in due:
        if campaign.pause_on_yes and waiting_for_call(campaign):
            continue
        released += release_wave(campaign.pk, expected=campaign.waves_sent)
    return released


def close_expired_campaigns(now: datetime | None = None) -> int:
    """Stänger aktiva kampanjer vars svarstid har passerat: som Avsluta, men av "system".

    Status avslutad, väntande och köade mottagare avbryts och deras nummer raderas, öppna
    sidor meddelas och audit får en rad per kampanj. Returnerar antalet stängda.
    """
    now = now or timezone.now()
    expired = list(
        Campaign.objects.filter(
            status=Campaign.Status.ACTIVE, answer_deadline__isnull=False, answer_deadline__lte=now
        ).values_list("pk", flat=True)
    )
    closed = 0
    for campaign_id in expired:
        with transaction.atomic():
            if not Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.ACTIVE).update(
                status=Campaign.Status.CLOSED, status_changed_at=now
            ):
                continue  # personalen hann före
            record(
                Action.CAMPAIGN_CLOSED,
                actor_username="system",
                status=Campaign.Status.CLOSED.label,
                reason="svarstiden har gått ut",
                data={"kampanj": campaign_id},
            )
            save_summaries([campaign_id])
            campaign_changed(campaign_id)
        closed += 1
    if closed:
        cancel_unsendable(now)
    return closed


@dataclass(frozen=True)
class SentWave:
    """En skickad grupp på kampanjsidan: nummer, tid och antal mottagare."""

    number: int
    sent_at: datetime
    count: int


def sent_waves(campaign: Campaign) -> list[SentWave]:
    """Kampanjens skickade grupper i ordning, ur audit-loggen (en rad per släppt grupp)."""
    events = AuditEvent.objects.filter(action=Action.CAMPAIGN_WAVE_SENT, data__kampanj=campaign.pk).order_by(
        "created_at"
    )
    return [
        SentWave(number=int(event.data["grupp"]), sent_at=event.created_at, count=int(event.data["mottagare"]))
        for event in events
    ]


def next_wave_text(campaign: Campaign, waiting: int, now: datetime | None = None) -> str:
    """Nästa grupp för personalen: "kl 10:40", "inom en minut", "pausad: väntar på att JA ringas",
    "tyst tid till 07:00", eller varför inga fler grupper går iväg.
    """
    now = now or timezone.now()
    if not campaign.wave_size:
        return ""
    if not campaign.is_open:
        return "inga fler grupper: kampanjen är stängd"
    if not waiting:
        return "alla grupper är skickade"
    if campaign.pause_on_yes and waiting_for_call(campaign):
        return "pausad: väntar på att JA ringas"
    due = max(campaign.next_wave_at or now, now)
    quiet_end = quiet_until(due)
    if quiet_end is not None:
        return f"tyst tid till {timezone.localtime(quiet_end):%H:%M}"
    if campaign.answer_deadline is not None and due >= campaign.answer_deadline:
        return "inga fler grupper före svarstiden"
    if due <= now:
        return "inom en minut"  # minutschemat tar den vid nästa körning
    return f"kl {timezone.localtime(due):%H:%M}"
