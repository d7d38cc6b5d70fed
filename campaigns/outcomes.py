"""Samtalen med patienter som svarat JA: "Bokad", "Nådde inte", "Tackade nej i telefon", och
"Öppna igen" när en bokning föll bort.

"Bokad" tillsätter kampanjen med patienten som fick tiden (`Campaign.booked_recipient`);
"Nådde inte" och "Tackade nej i telefon" flyttar "Ring först" till nästa JA i ordning
(`campaigns.dashboard`). Allt sker under lås på kampanjens rad, så två tryck samtidigt (eller
ett dubbelklick) ger ett utfall och en rad i audit-loggen. Audit får bara id:n, aldrig namn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import record
from campaigns.events import campaign_changed
from campaigns.models import Campaign, Recipient
from campaigns.services import change_status

Outcome = Recipient.CallOutcome

#: Knapparna på en JA-rad: utfall, text, knappens stil och frågan före (samma i static/js/campaign-live.js).
CALL_BUTTONS = [
    (
        Outcome.BOOKED.value,
        "Bokad",
        "btn-success",
        "Bokad – fick patienten tiden? Kampanjen blir tillsatt och alla andra patienters länkar visar att tiden är tagen.",
    ),
    (
        Outcome.NOT_REACHED.value,
        "Nådde inte",
        "btn-outline-dark",
        "Nådde du inte patienten? Ring först flyttas till nästa JA.",
    ),
    (
        Outcome.DECLINED.value,
        "Tackade nej i telefon",
        "btn-outline-dark",
        "Tackade patienten nej i telefon? Ring först flyttas till nästa JA.",
    ),
]


@dataclass(frozen=True)
class CallResult:
    """Beskedet till personalen: om något ändrades, och texten (svenska) med dess nivå."""

    changed: bool
    message: str
    level: str = "success"


def reopen_deadline(campaign: Campaign) -> datetime:
    """Sista tiden en tillsatt kampanj kan öppnas igen: svarstiden, eller tiden själv för äldre kampanjer."""
    return campaign.answer_until


def can_reopen(campaign: Campaign, now: datetime | None = None) -> bool:
    """Sant för en tillsatt kampanj vars svarstid inte har passerat."""
    return campaign.status == Campaign.Status.FILLED and (now or timezone.now()) < reopen_deadline(campaign)


def record_call_outcome(campaign: Campaign, recipient_id: int, outcome: str, user: Any) -> CallResult:
    """Noterar samtalet med en JA-patient; "Bokad" tillsätter också kampanjen med patienten.

    Samma utfall två gånger (dubbelklick) ändrar ingenting. Kampanjen måste vara öppen.
    """
    if outcome not in (Outcome.BOOKED, Outcome.NOT_REACHED, Outcome.DECLINED):
        return CallResult(False, "Okänt samtalsutfall. Ladda om sidan och försök igen.", "error")
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        recipient = campaign.recipients.filter(pk=recipient_id, answer=Recipient.Answer.YES).first()
        if recipient is None:
            return CallResult(False, "Patienten har inte svarat JA (eller har ändrat sitt svar).", "error")
        if recipient.call_outcome == outcome:
            return CallResult(False, f"Redan noterat: {recipient.name} – {Outcome(outcome).label}.", "info")
        if not campaign.is_open:
            return CallResult(False, "Kampanjen är inte längre öppen. Inget har ändrats.", "info")
        recipient.call_outcome = outcome
        recipient.call_outcome_at = timezone.now()
        recipient.save(update_fields=["call_outcome", "call_outcome_at"])
        if outcome == Outcome.BOOKED:
            change_status(campaign, user, Campaign.Status.FILLED, booked=recipient)
            return CallResult(
                True, f"Bokad: {recipient.name} har fått tiden. Patienternas länkar visar nu att tiden är tagen."
            )
        record(
            Action.CALL_OUTCOME,
            actor=user,
            status=Outcome(outcome).label,
            data={"kampanj": campaign.pk, "mottagare": recipient.pk},
        )
        campaign_changed(campaign.pk)
    return CallResult(True, f"Noterat: {recipient.name} – {Outcome(outcome).label}. Ring nästa JA i listan.")


def reopen_campaign(campaign: Campaign, user: Any) -> CallResult:
    """ "Öppna igen": bokningen föll bort. Kampanjen blir aktiv, länkarna öppnas igen, och den som
    var bokad noteras som "Tackade nej i telefon" så att "Ring först" går till nästa JA.

    Bara en tillsatt kampanj före svarstiden (`reopen_deadline`); ett andra tryck ändrar ingenting.
    """
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status == Campaign.Status.ACTIVE:
            return CallResult(False, "Kampanjen är redan öppen.", "info")
        if not can_reopen(campaign):
            return CallResult(
                False, "Kampanjen kan inte öppnas igen: den är avslutad eller svarstiden har passerat.", "error"
            )
        booked_id = campaign.booked_recipient_id
        Campaign.objects.filter(pk=campaign.pk).update(
            status=Campaign.Status.ACTIVE, status_changed_at=timezone.now(), booked_recipient=None
        )
        if booked_id is not None:
            Recipient.objects.filter(pk=booked_id).update(call_outcome=Outcome.DECLINED, call_outcome_at=timezone.now())
        record(
            Action.CAMPAIGN_REOPENED,
            actor=user,
            status=Campaign.Status.ACTIVE.label,
            data={"kampanj": campaign.pk, "tidigare_bokad_mottagare": booked_id},
        )
        campaign_changed(campaign.pk)
    return CallResult(True, "Kampanjen är öppen igen. Patienternas länkar fungerar igen; ring nästa JA.")
