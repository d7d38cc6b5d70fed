"""Kampanjhändelser till personalens öppna kampanjsidor (websocketen i `campaigns.consumers`).

`campaign_changed(id)` anropas efter varje ändring som personalen ska se: ett svar eller
ändrat svar, en sändstatus, en leveransrapport, en tillsatt eller avslutad kampanj. Själva
utskicket sker först när transaktionen har committats (`transaction.on_commit`), så att
sidan aldrig får ett läge som sedan rullas tillbaka. Meddelandet till gruppen
`campaign-<id>` bär bara kampanjens id; konsumenten bygger sedan en färsk ögonblicksbild
ur databasen.

Personalens sessioner: utloggning (`user_logged_out`, även när sessionen gått ut av
inaktivitet) stänger den sessionens öppna kampanjsidor direkt, och en ändring av kontot
(avstängt, nytt lösenord, raderat) får kontots öppna sidor att kontrollera sessionen på
nytt. Konsumentens regelbundna sessionskontroll är bara en reserv för det som inga
händelser når fram från (t.ex. en session som gått ut utan att någon begäran kom).

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
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

logger = logging.getLogger(__name__)

#: Meddelandetypen i gruppen; konsumentens metod heter `campaign_changed`.
EVENT_TYPE = "campaign.changed"
#: Sessionen har loggats ut: konsumentens metod `session_ended` stänger socketen.
SESSION_ENDED = "session.ended"
#: Kontot har ändrats: konsumentens metod `session_check` kontrollerar sessionen på nytt.
SESSION_CHECK = "session.check"
# Längsta tid ett utskick får ta (t.ex. när Redis inte svarar) innan det ges upp.
BROADCAST_TIMEOUT_SECONDS = 2.0


def group_name(campaign_id: int) -> str:
    """Kanalgruppen för en kampanjs öppna sidor."""
    return f"campaign-{int(campaign_id)}"


def session_group(session_key: str) -> str:
    """Kanalgruppen för en sessions öppna sidor; nyckeln själv (en inloggning) lämnar aldrig processen."""
    digest = salted_hmac("campaigns.events.session_group", session_key, algorithm="sha256").hexdigest()
    return f"staff-session-{digest[:40]}"


def user_group(user_id: Any) -> str:
    """Kanalgruppen för ett personalkontos öppna sidor."""
    return f"staff-user-{int(user_id)}"


def campaign_changed(campaign_id: int) -> None:
    """Meddelar kampanjens öppna sidor att något ändrats – efter commit (direkt utanför en transaktion)."""
    transaction.on_commit(lambda: broadcast(campaign_id))


def broadcast(campaign_id: int) -> bool:
    """Skickar kampanjhändelsen till gruppen nu; sant om det gick (se `send_to_group`)."""
    return send_to_group(group_name(campaign_id), {"type": EVENT_TYPE, "campaign": int(campaign_id)})


def send_to_group(group: str, message: dict[str, Any]) -> bool:
    """Skickar ett meddelande till en kanalgrupp nu; sant om det gick. Fel loggas (utan persondata), kastas aldrig."""
    try:
        layer = get_channel_layer()
        if layer is None:
            return False
        async_to_sync(_send)(layer, group, message)
    except Exception as error:  # noqa: BLE001 – ett misslyckat utskick får aldrig fälla begäran
        logger.warning("%s: händelsen kunde inte skickas (%s)", group, type(error).__name__)
        return False
    return True


async def _send(layer: Any, group: str, message: dict[str, Any]) -> None:
    """Gruppmeddelandet med en tidsgräns (ett Redis som inte svarar får inte hänga begäran)."""
    await asyncio.wait_for(layer.group_send(group, message), timeout=BROADCAST_TIMEOUT_SECONDS)


@receiver(user_logged_out, dispatch_uid="campaigns_staff_logged_out")
def staff_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Utloggning (knappen eller utgången session): sessionens öppna kampanjsidor stängs direkt."""
    session = getattr(request, "session", None)
    session_key = getattr(session, "session_key", None)
    if session_key:
        send_to_group(session_group(session_key), {"type": SESSION_ENDED})


@receiver(post_save, sender=get_user_model(), dispatch_uid="campaigns_staff_account_saved")
@receiver(post_delete, sender=get_user_model(), dispatch_uid="campaigns_staff_account_deleted")
def staff_account_changed(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """Kontot ändrat eller raderat: dess öppna sidor kontrollerar sessionen efter commit.

    Inloggningens egen uppdatering (bara `last_login`) gör inga sessioner ogiltiga och hoppas över.
    """
    if update_fields is not None and set(update_fields) == {"last_login"}:
        return
    group = user_group(instance.pk)
    transaction.on_commit(lambda: send_to_group(group, {"type": SESSION_CHECK}))


@receiver(post_delete, sender="campaigns.Campaign", dispatch_uid="campaigns_campaign_deleted")
def campaign_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """En kampanj raderad (radering efter CAMPAIGN_RETENTION_DAYS, admin, skal): öppna sidor säger det.

    Med Redis frågar en tyst websocket aldrig databasen själv, så raderingen måste bli en händelse.
    """
    campaign_changed(instance.pk)
