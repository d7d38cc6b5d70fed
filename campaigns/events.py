"""Kampanjhändelser till personalens öppna kampanjsidor (websocketen i `campaigns.consumers`).

`campaign_changed(id)` anropas efter varje ändring som personalen ska se: ett svar eller
ändrat svar, en sändstatus, en leveransrapport, en tillsatt eller avslutad kampanj. Själva
utskicket sker först när transaktionen har committats (`transaction.on_commit`), så att
sidan aldrig får ett läge som sedan rullas tillbaka. Meddelandet till gruppen
`campaign-<id>` bär bara kampanjens id; konsumenten bygger sedan en färsk ögonblicksbild
ur databasen.

Över processgränser: med Redis (`REDIS_URL`) når gruppmeddelandet alla daphne-processer,
även från django-q2:s arbetsprocesser. Kanal-lagret i minnet når bara den egna processen;
därför kontrollerar konsumenten dessutom själv kampanjen med jämna mellanrum (se
`campaigns.consumers`). Ett utskick som misslyckas (t.ex. Redis nere) fångas och loggas
utan persondata: det får aldrig fälla begäran eller jobbet som orsakade det.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.dispatch import receiver

from smsportal.delivery import delivery_status_changed

logger = logging.getLogger(__name__)

#: Meddelandetypen i gruppen; konsumentens metod heter `campaign_changed`.
EVENT_TYPE = "campaign.changed"
# Längsta tid ett utskick får ta (t.ex. när Redis inte svarar) innan det ges upp.
BROADCAST_TIMEOUT_SECONDS = 2.0


def group_name(campaign_id: int) -> str:
    """Kanalgruppen för en kampanjs öppna sidor."""
    return f"campaign-{int(campaign_id)}"


def campaign_changed(campaign_id: int) -> None:
    """Meddelar kampanjens öppna sidor att något ändrats – efter commit (direkt utanför en transaktion)."""
    transaction.on_commit(lambda: broadcast(campaign_id))


def broadcast(campaign_id: int) -> bool:
    """Skickar händelsen till gruppen nu; sant om det gick. Fel loggas (utan persondata), kastas aldrig."""
    try:
        layer = get_channel_layer()
        if layer is None:
            return False
        async_to_sync(_send)(layer, campaign_id)
    except Exception as error:  # noqa: BLE001 – ett misslyckat utskick får aldrig fälla begäran
        logger.warning("Kampanj %s: händelsen kunde inte skickas (%s)", campaign_id, type(error).__name__)
        return False
    return True


async def _send(layer: Any, campaign_id: int) -> None:
    """Gruppmeddelandet med en tidsgräns (ett Redis som inte svarar får inte hänga begäran)."""
    await asyncio.wait_for(
        layer.group_send(group_name(campaign_id), {"type": EVENT_TYPE, "campaign": int(campaign_id)}),
        timeout=BROADCAST_TIMEOUT_SECONDS,
    )


@receiver(delivery_status_changed, dispatch_uid="campaigns_delivery_status_changed")
def delivery_changed(sender: Any, provider: str, message_id: str, **kwargs: Any) -> None:
    """En ny leveransrapport för ett kampanj-SMS: kampanjens sidor uppdateras."""
    from campaigns.models import Recipient

    for campaign_id in set(
        Recipient.objects.filter(provider=provider, provider_message_id=message_id).values_list("campaign_id", flat=True)
    ):
        campaign_changed(campaign_id)
