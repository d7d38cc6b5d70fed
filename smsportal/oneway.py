"""Envägs-SMS från en mall: kvot, dubbelklick, sändning och audit, i en transaktion per användare.

Numret och texten finns bara i minnet under begäran: de sparas aldrig och loggas aldrig.
Audit-loggen får vem, när, mallens kategori och rubrik, om texten redigerats, antal delar,
status och leverantör.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from audit.models import Action, AuditEvent
from audit.services import record
from smsportal.backends.base import AMBIGUOUS_MESSAGE, SmsError
from smsportal.quota import COUNTED_ACTIONS, Quota, quota_for
from smsportal.sending import send_sms
from templates_app.models import MessageTemplate, with_signature

STATUS_SENT = "skickat"
STATUS_FAILED = "misslyckat"
STATUS_UNCERTAIN = "osäkert"


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
    text = with_signature(body)
    audit_fields = {
        "category": template.category.name,
        "template_title": template.title,
        "edited": body.strip() != template.body().strip(),
    }
    refused: SendRefused | None = None
    with transaction.atomic():
        # Lås användarens rad: samma persons sändningar (flera flikar) köas efter varandra.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        previous = _previous_send(user, request_id)
        quota = quota_for(user)
        if previous is not None and previous.action == Action.SMS_SENT:
            return Sent(segments=previous.segments or 0, provider=previous.provider, duplicate=True, quota=quota)
        if previous is not None:
            # Samma formulär gav ett osäkert SMS: skicka inte igen på chans.
            refused = SendRefused(AMBIGUOUS_MESSAGE)
        elif quota.exceeded:
            record(Action.SMS_FAILED, actor=user, status=STATUS_FAILED, reason="kvoten överskriden", **audit_fields)
            refused = SendRefused(quota.message(), quota)
        else:
            try:
                result = send_sms(to, text)
            except SmsError as error:
                _record_failure(user, error, request_id, audit_fields)
                refused = SendRefused(error.message)
            else:
                record(
                    Action.SMS_SENT,
                    actor=user,
                    status=STATUS_SENT,
                    segments=result.segments,
                    provider=result.provider,
                    provider_message_id=result.message_id,
                    request_id=request_id,
                    **audit_fields,
                )
    if refused is not None:
        raise refused
    return Sent(segments=result.segments, provider=result.provider, duplicate=False, quota=quota_for(user))


def _previous_send(user: Any, request_id: str) -> AuditEvent | None:
    """Audit-händelsen för ett SMS som samma formulär redan har skickat (eller kanske skickat)."""
    if not request_id:
        return None
    return AuditEvent.objects.filter(actor=user, action__in=COUNTED_ACTIONS, request_id=request_id).first()


def _record_failure(user: Any, error: SmsError, request_id: str, audit_fields: dict[str, Any]) -> None:
    """Audit för ett misslyckat eller osäkert SMS (osäkert räknas mot kvoten och spärrar omsändning)."""
    if error.ambiguous:
        record(
            Action.SMS_UNCERTAIN,
            actor=user,
            status=STATUS_UNCERTAIN,
            reason=error.reason,
            provider=error.provider,
            request_id=request_id,
            **audit_fields,
        )
    else:
        record(
            Action.SMS_FAILED,
            actor=user,
            status=STATUS_FAILED,
            reason=error.reason,
            provider=error.provider,
            **audit_fields,
        )


def record_invalid_form(user: Any, reason: str) -> None:
    """Audit för ett försök som stoppades redan i formuläret (t.ex. ogiltigt nummer)."""
    record(Action.SMS_FAILED, actor=user, status=STATUS_FAILED, reason=reason)
