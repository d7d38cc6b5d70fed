"""Envägs-SMS från en mall: kvot, dubbelklick, sändning och audit.

Numret och texten finns bara i minnet under begäran: de sparas aldrig och loggas aldrig.
Audit-loggen får vem, när, mallens kategori och rubrik, om texten redigerats, antal delar,
status och leverantör.

Ordningen gör kvoten exakt utan att låsa databasen under nätverksanropet: i en kort
transaktion (användarens rad låst) kontrolleras kvoten och försöket loggas med status
"skickas"; sedan skickas SMS:et utanför transaktionen och försöket får sitt utfall. Ett
försök som blir kvar i "skickas" (processen dog) räknas som osäkert och mot kvoten.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from audit.models import Action, AuditEvent
from audit.services import STATUS_PENDING, PersonalDataInAudit, check_fields, complete, record
from smsportal.backends.base import AMBIGUOUS_MESSAGE, SEND_FAILED_MESSAGE, SmsError
from smsportal.quota import COUNTED_ACTIONS, Quota, quota_for
from smsportal.sending import send_sms
from templates_app.models import MessageTemplate, with_signature

STATUS_SENT = "skickat"
STATUS_FAILED = "misslyckat"
STATUS_UNCERTAIN = "osäkert"
UNLOGGABLE_TEMPLATE = (
    "Mallens rubrik eller kategori innehåller något som liknar ett telefonnummer och kan inte "
    "loggas. Be en administratör ändra mallen."
)
# Hur länge ett andra klick väntar på det första klickets utfall innan det svarar "osäkert".
WAIT_FOR_FIRST_CLICK_SECONDS = 30.0


@dataclass(frozen=True)
class Sent:
    """Ett skickat SMS (eller ett som redan var skickat av samma formulär)."""

    segments: int
    provider: str
    duplicate: bool
    quota: Quota


class SendRefused(Exception):
    """SMS:et skickades inte; `message` är det svenska beskedet till personalen."""

    def __init__(self, message: str, quota: Quota | None = None) -> None:
        """Sparar beskedet och (vid kvotfel) kvotens läge."""
        super().__init__(message)
        self.message = message
        self.quota = quota


def send_template_sms(
    *, user: Any, template: MessageTemplate, to: str, body: str, request_id: str
) -> Sent:
    """Skickar mallens (eventuellt redigerade) text med signatur till `to` (E.164).

    Samma `request_id` två gånger (dubbelklick, omskickat formulär) ger ett SMS, inte två.
    Kastar `SendRefused` när kvoten är slut eller leverantören inte kunde skicka.
    """
    fields = {
        "category": template.category.name,
        "template_title": template.title,
        "edited": body.strip() != template.body().strip(),
    }
    try:
        check_fields(fields)
    except PersonalDataInAudit:
        raise SendRefused(UNLOGGABLE_TEMPLATE) from None
    attempt, previous = _reserve(user, request_id, fields)
    if attempt is None:
        return _answer_repeat(user, previous)
    try:
        result = send_sms(to, with_signature(body))
    except SmsError as error:
        if error.ambiguous:
            complete(attempt, action=Action.SMS_UNCERTAIN, status=STATUS_UNCERTAIN, reason=error.reason, provider=error.provider)
        else:
            complete(attempt, action=Action.SMS_FAILED, status=STATUS_FAILED, reason=error.reason, provider=error.provider)
        raise SendRefused(error.message) from None
    complete(
        attempt,
        action=Action.SMS_SENT,
        status=STATUS_SENT,
        segments=result.segments,
        provider=result.provider,
        provider_message_id=result.message_id,
    )
    return Sent(segments=result.segments, provider=result.provider, duplicate=False, quota=quota_for(user))


def _reserve(user: Any, request_id: str, fields: dict[str, Any]) -> tuple[AuditEvent | None, AuditEvent | None]:
    """Kort transaktion: kvot och dubblettkontroll under lås, försöket loggas som "skickas".

    Returnerar (nytt försök, None) eller (None, tidigare försök med samma formulär-id).
    Kastar SendRefused när kvoten är slut.
    """
    with transaction.atomic():
        # Lås användarens rad: samma persons sändningar (flera flikar) köas efter varandra.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        previous = _previous_send(user, request_id)
        if previous is not None:
            return None, previous
        quota = quota_for(user)
        if quota.exceeded:
            record(Action.SMS_FAILED, actor=user, status=STATUS_FAILED, reason="kvoten överskriden", **fields)
            refused = SendRefused(quota.message(), quota)
        else:
            return record(Action.SMS_UNCERTAIN, actor=user, status=STATUS_PENDING, request_id=request_id, **fields), None
    raise refused


def _previous_send(user: Any, request_id: str) -> AuditEvent | None:
    """Försöket som samma formulär redan har gjort (skickat, pågående eller osäkert)."""
    if not request_id:
        return None
    return AuditEvent.objects.filter(actor=user, action__in=COUNTED_ACTIONS, request_id=request_id).first()


def _answer_repeat(user: Any, previous: AuditEvent) -> Sent:
    """Samma formulär igen: vänta på första klickets utfall och svara som det, utan nytt SMS."""
    deadline = time.monotonic() + WAIT_FOR_FIRST_CLICK_SECONDS
    while previous.status == STATUS_PENDING and time.monotonic() < deadline:
        time.sleep(0.25)
        previous = AuditEvent.objects.get(pk=previous.pk)
    if previous.action == Action.SMS_SENT:
        return Sent(segments=previous.segments or 0, provider=previous.provider, duplicate=True, quota=quota_for(user))
    if previous.action == Action.SMS_FAILED:
        raise SendRefused(SEND_FAILED_MESSAGE)
    raise SendRefused(AMBIGUOUS_MESSAGE)


def record_invalid_form(user: Any, reason: str) -> None:
    """Audit för ett försök som stoppades redan i formuläret (t.ex. ogiltigt nummer)."""
    record(Action.SMS_FAILED, actor=user, status=STATUS_FAILED, reason=reason)
