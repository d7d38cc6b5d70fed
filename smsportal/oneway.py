"""Envägs-SMS från en mall: kvot, dubbelklick, sändning och registrering.

Numret och texten finns bara i minnet under begäran: de sparas aldrig och loggas aldrig.
SMS-registret och audit-loggen får vem, när, mallens kategori och rubrik, om texten redigerats,
antal delar, status och leverantör.

Ordningen gör kvoten exakt utan att låsa databasen under nätverksanropet: i en kort
transaktion (användarens rad låst) kontrolleras kvoten och försöket sparas i registret som
"skickas"; sedan skickar `send_and_record` utanför transaktionen och ger försöket sitt utfall.
Ett försök som blir kvar i "skickas" (processen dog) räknas som osäkert och mot kvoten.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from audit.models import Action
from audit.services import PersonalDataInAudit, check_fields, record
from smsportal.ledger import attempt_with_key, begin_attempt
from smsportal.models import AttemptStatus, Purpose, SendAttempt
from smsportal.quota import Quota, quota_for
from smsportal.sending import AMBIGUOUS_MESSAGE, SEND_FAILED_MESSAGE, send_and_record
from templates_app.models import MessageTemplate, with_signature

#: Kvoten slut: audit-loggens orsak (inget SMS-försök, ingen rad i registret).
QUOTA_REASON = "kvoten överskriden"
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


def send_template_sms(*, user: Any, template: MessageTemplate, to: str, body: str, request_id: str) -> Sent:
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
    attempt, is_new = _reserve(user, request_id, fields)
    if not is_new:
        return _answer_repeat(user, attempt)
    outcome = send_and_record(to, with_signature(body), attempt=attempt)
    if not outcome.sent:
        raise SendRefused(outcome.message)
    return Sent(
        segments=outcome.attempt.segments or 0,
        provider=outcome.attempt.provider,
        duplicate=False,
        quota=quota_for(user),
    )


def _reserve(user: Any, request_id: str, fields: dict[str, Any]) -> tuple[SendAttempt, bool]:
    """Kort transaktion: kvot och dubblettkontroll under lås, försöket sparas som "skickas".

    Returnerar (nytt försök, True) eller (tidigare försök med samma formulär-id, False).
    Kastar SendRefused när kvoten är slut (audit-loggen får händelsen, registret inget försök).
    """
    with transaction.atomic():
        # Lås användarens rad: samma persons sändningar (flera flikar) köas efter varandra.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        previous = attempt_with_key(user, request_id)
        if previous is not None:
            return previous, False
        quota = quota_for(user)
        if quota.exceeded:
            record(Action.SMS_FAILED, actor=user, status=AttemptStatus.FAILED.label, reason=QUOTA_REASON, **fields)
            refused = SendRefused(quota.message(), quota)
        else:
            attempt = begin_attempt(purpose=Purpose.ONE_WAY, actor=user, idempotency_key=request_id, **fields)
            return attempt, True
    raise refused


def _answer_repeat(user: Any, previous: SendAttempt) -> Sent:
    """Samma formulär igen: vänta på första klickets utfall och svara som det, utan nytt SMS."""
    deadline = time.monotonic() + WAIT_FOR_FIRST_CLICK_SECONDS
    while previous.status == AttemptStatus.PENDING and time.monotonic() < deadline:
        time.sleep(0.25)
        previous.refresh_from_db()
    if previous.status == AttemptStatus.SENT:
        return Sent(segments=previous.segments or 0, provider=previous.provider, duplicate=True, quota=quota_for(user))
    if previous.status == AttemptStatus.FAILED:
        raise SendRefused(SEND_FAILED_MESSAGE)
    raise SendRefused(AMBIGUOUS_MESSAGE)
