"""Failover, osäker tidsgräns, leveransrapporter och driftkommandon, med testbackends."""

from __future__ import annotations

import uuid
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from audit.models import Action, AuditEvent
from smsportal.backends.base import AMBIGUOUS_MESSAGE
from smsportal.delivery import DeliveryReport, DeliveryStatus, receive_report
from smsportal.models import AttemptStatus, SendAttempt
from templates_app.models import MessageTemplate
from tests.smsportal.ledger_helpers import reported, sent_attempt

pytestmark = pytest.mark.django_db


def post(client: Client, request_id: str | None = None) -> Any:
    """Skickar sändformuläret med mallen Receptpolicy."""
    template = MessageTemplate.objects.get(title="Receptpolicy")
    return client.post(
        "/",
        {
            "template": template.pk,
            "phone": "0701234567",
            "body": template.body(),
            "request_id": request_id or str(uuid.uuid4()),
        },
    )


@override_settings(SMS_PROVIDERS=["tests.fakes.backends.AmbiguousBackend", "locmem"])
def test_ambiguous_timeout_is_not_failed_over_nor_resent(staff_client: Client, sms_outbox: list[Any]) -> None:
    """Tidsgräns efter sändning: ingen annan leverantör provas, personalen ser "osäkert", samma formulär skickas inte igen."""
    request_id = str(uuid.uuid4())
    page = post(staff_client, request_id).content.decode()
    assert AMBIGUOUS_MESSAGE in page
    assert sms_outbox == []
    with override_settings(SMS_PROVIDERS=["locmem"]):
        page = post(staff_client, request_id).content.decode()
    assert AMBIGUOUS_MESSAGE in page and sms_outbox == []
    event = AuditEvent.objects.get(action=Action.SMS_UNCERTAIN)
    assert (event.status, event.provider) == ("osäkert", "tyst")
    assert "Kvar denna timme: 29 av 30" in page  # kan ha skickats: räknas mot kvoten
    recent = staff_client.get("/").content.decode().split('data-testid="senaste"')[1]
    assert "Receptpolicy" in recent and ">osäkert<" in recent


#: Lyssnarna i testerna nedan: de ser varje ny leveransstatus (SMS_DELIVERY_LISTENERS).
RECEIVED: list[DeliveryReport] = []


def remember_report(report: DeliveryReport) -> None:
    """En deklarerad lyssnare (sökväg i SMS_DELIVERY_LISTENERS) som sparar rapporten."""
    RECEIVED.append(report)


@override_settings(SMS_DELIVERY_LISTENERS=["tests.smsportal.test_failover.remember_report"])
def test_delivery_reports_are_idempotent_and_monotonic() -> None:
    """Första slutstatus gäller; dubbletter, sena motsatta rapporter och okända id ändrar inget."""
    RECEIVED.clear()
    for provider in ("twilio", "sinch"):
        sent_attempt(provider, "SM1")
    assert receive_report("twilio", "SM-okänt", DeliveryStatus.FAILED) is False  # okänt id sparas inte
    assert receive_report("twilio", "SM1", DeliveryStatus.FAILED) is True
    assert receive_report("twilio", "SM1", DeliveryStatus.FAILED) is False
    assert receive_report("twilio", "SM1", DeliveryStatus.DELIVERED) is False
    assert receive_report("twilio", "SM1", DeliveryStatus.PENDING) is False
    assert receive_report("sinch", "SM1", DeliveryStatus.DELIVERED) is True
    assert SendAttempt.objects.get(provider="twilio").delivery_status == DeliveryStatus.FAILED
    assert [(r.provider, r.status) for r in RECEIVED] == [
        ("twilio", DeliveryStatus.FAILED),
        ("sinch", DeliveryStatus.DELIVERED),
    ]


def test_send_page_and_ledger_admin_show_delivery_status(staff_client: Client, admin_client_: Client) -> None:
    """ "Dina senaste SMS" och SMS-registret i admin visar väntar, levererat och ej levererat per SMS."""
    for _ in range(3):
        post(staff_client)
    ids = list(SendAttempt.objects.order_by("id").values_list("provider_message_id", flat=True))
    receive_report("locmem", ids[0], DeliveryStatus.DELIVERED)
    receive_report("locmem", ids[1], DeliveryStatus.FAILED)
    recent = staff_client.get("/").content.decode().split('data-testid="senaste"')[1]
    assert recent.count(">levererat<") == 1 and recent.count(">ej levererat<") == 1 and recent.count(">väntar<") == 1
    page = admin_client_.get("/admin/smsportal/sendattempt/").content.decode()
    cells = [f'class="field-delivery_label">{label}<' for label in ("levererat", "ej levererat", "väntar")]
    assert [page.count(cell) for cell in cells] == [1, 1, 1]


@override_settings(SMS_PROVIDERS=["locmem"])
def test_send_test_sms_is_audited(sms_outbox: list[Any]) -> None:
    """send_test_sms skickar genom kedjan, skriver ut maskerat nummer och loggas i audit."""
    out = StringIO()
    call_command("send_test_sms", "070-123 45 67", stdout=out)
    assert "070-123 ****" in out.getvalue() and "+46701234567" not in out.getvalue()
    assert [m.to for m in sms_outbox] == ["+46701234567"]
    event = AuditEvent.objects.get()
    assert (event.action, event.actor_username, event.template_title) == (Action.SMS_SENT, "manage.py", "Test-SMS")
    attempt = SendAttempt.objects.get()
    assert (attempt.purpose, attempt.status, event.data) == ("test", AttemptStatus.SENT, {"sms": attempt.pk})
    with pytest.raises(CommandError, match="Ogiltigt telefonnummer"):
        call_command("send_test_sms", "08-123 45 67", stdout=out)


@override_settings(SMS_PROVIDERS=["locmem", "tests.fakes.backends.DownBackend"])
def test_sms_check_prints_chain() -> None:
    """sms_check visar kedjan och resultatet per leverantör."""
    out = StringIO()
    call_command("sms_check", stdout=out)
    assert "Leverantörer i failover-ordning: locmem → nere" in out.getvalue()
    assert "Avsändare: SodermOrto" in out.getvalue()


@pytest.mark.parametrize(
    "path", ["/webhooks/sms/sinch/", "/webhooks/sms/elks46/", "/webhooks/sms/locmem/", "/webhooks/sms/okand/"]
)
def test_webhooks_outside_the_chain_are_not_found(client: Client, settings: Any, path: str) -> None:
    """Bara leverantörer i SMS_PROVIDERS tar emot rapporter, och bara på sin egen adress."""
    settings.SMS_PROVIDERS = ["locmem"]
    settings.SMS_WEBHOOK_TOKEN = "en-token-som-ar-tillrackligt-lang"
    assert (
        client.post(path + "?token=en-token-som-ar-tillrackligt-lang", {"id": "x", "status": "delivered"}).status_code
        == 404
    )
    assert client.get(path).status_code in (404, 405)
    assert not reported().exists()
