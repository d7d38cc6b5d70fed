"""Utvecklingsutkorgen: de senaste SMS:en som konsolbackenden "skickat", för alla processer.

Undantag i dataskyddskartan (DESIGN.md): ett SMS:s text sparas annars aldrig. Här sparas
texten ändå, för att utvecklare och utbildare ska hitta t.ex. patientlänkarna i kampanjernas
SMS, men bara så här:

- bara med DEBUG på (`remember` sparar inget annars), och konsolbackenden vägrar starta med
  DEBUG av (config/settings.py): i drift finns ingen utkorg;
- numret bara maskerat (`mask_phone`, t.ex. "070-123 ****"), aldrig i sin helhet;
- bara de senaste `KEEP` SMS:en (äldre raderas vid varje nytt SMS);
- samma radering som kampanjerna (`purge`, anropas av `campaigns.services.purge_expired`,
  alltså både django-q2-schemat och `manage.py purge_campaigns`): SMS äldre än
  CAMPAIGN_RETENTION_DAYS, och alla SMS till mottagare i de kampanjer som raderas.

Utkorgen ligger i databasen, inte i processens minne: kampanjernas SMS skickas av django-q2:s
arbetsprocesser och ska synas på sidan som webbprocessen visar.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from smsportal.backends.base import SendResult
from smsportal.models import DevOutboxMessage
from smsportal.phone import mask_phone

#: Så många SMS finns kvar i utkorgen (de senaste).
KEEP = 50


def remember(to: str, text: str, result: SendResult) -> bool:
    """Sparar SMS:et (maskerat nummer) och raderar de äldsta utöver `KEEP`; bara med DEBUG på.

    Returnerar sant om SMS:et sparades.
    """
    if not settings.DEBUG:
        return False
    with transaction.atomic():
        DevOutboxMessage.objects.create(
            sent_at=timezone.now(),
            masked_phone=mask_phone(to),
            text=text,
            segments=result.segments,
            provider_message_id=result.message_id,
        )
        _trim()
    return True


def _trim() -> None:
    """Raderar allt utom de `KEEP` senaste SMS:en (id:t växer med varje nytt SMS)."""
    oldest_kept = list(DevOutboxMessage.objects.order_by("-id").values_list("id", flat=True)[KEEP - 1 : KEEP])
    if oldest_kept:
        DevOutboxMessage.objects.filter(id__lt=oldest_kept[0]).delete()


def recent() -> list[DevOutboxMessage]:
    """SMS:en i utkorgen, nyast först."""
    return list(DevOutboxMessage.objects.order_by("-id")[:KEEP])


def purge(before: datetime, message_ids: Iterable[str] = ()) -> int:
    """Raderar SMS skickade före `before` och SMS med något av meddelande-id:na; returnerar antalet."""
    ids = [message_id for message_id in message_ids if message_id]
    deleted, _ = DevOutboxMessage.objects.filter(Q(sent_at__lt=before) | Q(provider_message_id__in=ids)).delete()
    return deleted
