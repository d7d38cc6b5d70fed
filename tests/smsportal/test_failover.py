"""Failover, osäker tidsgräns, leveransrapporter och driftkommandon, med testbackends."""

from __future__ import annotations

import uuid
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from audit.models import Action, AuditEvent, DeliveryReport, DeliveryStatus
from smsportal.backends.base import AMBIGUOUS_MESSAGE
from smsportal.delivery import delivery_status_changed, receive_report
from templates_app.models import MessageTemplate

pytestmark = pytest.mark.django_db


def post(client: Client, request_id: str | None = None) -> Any:
    """Skickar sändformuläret med mallen Receptpolicy."""
    template = MessageTemplate.objects.get(title="Receptpolicy")
    return client.post("/", {
        "template": template.pk, "phone": "0701234567", "body": template.body(),
        "request_id": request_id or str(uuid.uuid4()),
    })


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


def test_delivery_reports_are_idempotent_and_monotonic() -> None:
    """Första slutstatus gäller; dubbletter, sena motsatta rapporter och okända id ändrar inget."""
    received: list[str] = []

    def listener(sender: Any, status: str, **kwargs: Any) -> None:
        """Noterar signalen som kampanjerna lyssnar på."""
        received.append(status)

    for provider in ("twilio", "sinch"):
        AuditEvent.objects.create(action=Action.SMS_SENT, provider=provider, provider_message_id="SM1")
    delivery_status_changed.connect(listener)
    try:
        assert receive_report("twilio", "SM-okänt", DeliveryStatus.FAILED) is False  # okänt id sparas inte
        assert receive_report("twilio", "SM1", DeliveryStatus.FAILED) is True
        assert receive_report("twilio", "SM1", DeliveryStatus.FAILED) is False
        assert receive_report("twilio", "SM1", DeliveryStatus.DELIVERED) is False
        assert receive_report("twilio", "SM1", DeliveryStatus.PENDING) is False
        assert receive_report("sinch", "SM1", DeliveryStatus.DELIVERED) is True
    finally:
        delivery_status_changed.disconnect(listener)
    assert DeliveryReport.objects.get(provider="twilio").status == DeliveryStatus.FAILED
    assert received == [DeliveryStatus.FAILED, DeliveryStatus.DELIVERED]


def test_audit_page_shows_delivery_status(staff_client: Client, admin_client_: Client) -> None:
    """Audit-sidan visar väntar, levererat och ej levererat per skickat SMS."""
    for _ in range(3):
        post(staff_client)
    ids = list(AuditEvent.objects.filter(action=Action.SMS_SENT).order_by("id").values_list("provider_message_id", flat=True))
    receive_report("locmem", ids[0], DeliveryStatus.DELIVERED)
    receive_report("locmem", ids[1], DeliveryStatus.FAILED)
    page = admin_client_.get("/logg/", {"action": "sms_sent"}).content.decode()
    assert page.count(">levererat<") == 1 and page.count(">ej levererat<") == 1 and page.count(">väntar<") == 1
    csv_text = admin_client_.get("/logg/", {"action": "sms_sent", "format": "csv"}).content.decode("utf-8-sig")
    assert ";levererat" in csv_text and ";ej levererat" in csv_text and ";väntar" in csv_text


@override_settings(SMS_PROVIDERS=["locmem"])
def test_send_test_sms_is_audited(sms_outbox: list[Any]) -> None:
    """send_test_sms skickar genom kedjan, skriver ut maskerat nummer och loggas i audit."""
    out = StringIO()
    call_command("send_test_sms", "070-123 45 67", stdout=out)
    assert "070-123 ****" in out.getvalue() and "+46701234567" not in out.getvalue()
    assert [m.to for m in sms_outbox] == ["+46701234567"]
    event = AuditEvent.objects.get()
    assert (event.action, event.actor_username, event.template_title) == (Action.SMS_SENT, "manage.py", "Test-SMS")
    with pytest.raises(CommandError, match="Ogiltigt telefonnummer"):
        call_command("send_test_sms", "08-123 45 67", stdout=out)


@override_settings(SMS_PROVIDERS=["locmem", "tests.fakes.backends.DownBackend"])
def test_sms_check_prints_chain() -> None:
    """sms_check visar kedjan och resultatet per leverantör."""
    out = StringIO()
    call_command("sms_check", stdout=out)
    assert "Leverantörer i failover-ordning: locmem → nere" in out.getvalue()
    assert "Avsändare: SodermOrto" in out.getvalue()


@pytest.mark.parametrize("path", ["/webhooks/sms/sinch/", "/webhooks/sms/elks46/", "/webhooks/sms/locmem/", "/webhooks/sms/okand/"])
def test_webhooks_outside_the_chain_are_not_found(client: Client, settings: Any, path: str) -> None:
    """Bara leverantörer i SMS_PROVIDERS tar emot rapporter, och bara på sin egen adress."""
    settings.SMS_PROVIDERS = ["locmem"]
    settings.SMS_WEBHOOK_TOKEN = "en-token-som-ar-tillrackligt-lang"
    assert client.post(path + "?token=en-token-som-ar-tillrackligt-lang", {"id": "x", "status": "delivered"}).status_code == 404
    assert client.get(path).status_code in (404, 405)
    assert not DeliveryReport.objects.exists()
