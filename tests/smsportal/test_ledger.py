"""SMS-registret och den enda vägen att skicka och registrera (`smsportal.sending.send_and_record`)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from audit.models import Action, AuditEvent
from smsportal import oneway
from smsportal.ledger import begin_attempt, complete_attempt
from smsportal.models import AttemptStatus, Purpose, SendAttempt
from smsportal.sending import send_and_record
from templates_app.models import MessageTemplate

pytestmark = pytest.mark.django_db

TO = "+46701234567"


@pytest.mark.parametrize(
    ("provider", "status", "action", "retryable"),
    [
        ("locmem", AttemptStatus.SENT, Action.SMS_SENT, False),
        ("tests.fakes.backends.RejectingBackend", AttemptStatus.FAILED, Action.SMS_FAILED, False),
        ("tests.fakes.backends.DownBackend", AttemptStatus.FAILED, Action.SMS_FAILED, True),
        ("tests.fakes.backends.AmbiguousBackend", AttemptStatus.UNCERTAIN, Action.SMS_UNCERTAIN, False),
    ],
)
def test_one_error_to_outcome_rule(
    settings: Any, sms_outbox: list[Any], provider: str, status: str, action: str, retryable: bool
) -> None:
    """Skickat, vägrat, nere (nytt försök ofarligt) och osäkert: samma utfall i registret och audit-loggen."""
    settings.SMS_PROVIDERS = [provider]
    outcome = send_and_record(TO, "Hej", purpose=Purpose.TEST, actor_username="manage.py", template_title="Test-SMS")
    attempt = SendAttempt.objects.get()
    assert (attempt.status, outcome.status, outcome.retryable, outcome.sent) == (
        status,
        status,
        retryable,
        status == "sent",
    )
    assert attempt.finished_at is not None
    event = AuditEvent.objects.get()
    assert (event.action, event.status, event.data) == (action, attempt.get_status_display(), {"sms": attempt.pk})
    assert TO not in str(SendAttempt.objects.values().get()) and "Hej" not in str(SendAttempt.objects.values().get())


def test_an_outcome_is_written_once(staff_user: Any) -> None:
    """Ett försök får sitt utfall en gång: ett andra utfall (t.ex. en sen tråd) ändrar ingenting."""
    attempt = begin_attempt(purpose=Purpose.ONE_WAY, actor=staff_user, template_title="Receptpolicy")
    assert attempt.status == AttemptStatus.PENDING
    assert complete_attempt(attempt, AttemptStatus.SENT, provider="locmem", provider_message_id="m1", segments=1)
    assert not complete_attempt(attempt, AttemptStatus.FAILED, reason="för sent")
    assert SendAttempt.objects.values_list("status", "provider_message_id").get() == ("sent", "m1")


def test_campaign_sms_is_not_audited_one_by_one(sms_outbox: list[Any]) -> None:
    """Kampanjens SMS registreras (syfte och kampanj-id) men skrivs inte ett och ett i audit-loggen."""
    send_and_record(TO, "Hej", purpose=Purpose.CAMPAIGN, actor_username="system", campaign_id=7)
    assert SendAttempt.objects.values_list("purpose", "campaign_id", "status").get() == ("campaign", 7, "sent")
    assert not AuditEvent.objects.exists()


def test_a_crash_mid_send_is_uncertain_counted_and_never_resent(
    staff_client: Client, staff_user: Any, sms_outbox: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ett försök som blev kvar i "skickas" (processen dog) visas osäkert, räknas mot kvoten, och samma
    formulär skickar inte igen."""
    template = MessageTemplate.objects.get(title="Receptpolicy")
    request_id = str(uuid.uuid4())
    begin_attempt(
        purpose=Purpose.ONE_WAY,
        actor=staff_user,
        category=template.category.name,
        template_title=template.title,
        idempotency_key=request_id,
    )
    monkeypatch.setattr(oneway, "WAIT_FOR_FIRST_CLICK_SECONDS", 0.0)
    page = staff_client.post(
        "/", {"template": template.pk, "phone": "0701234567", "body": template.body(), "request_id": request_id}
    ).content.decode()
    assert oneway.AMBIGUOUS_MESSAGE in page and sms_outbox == []
    assert "Kvar denna timme: 29 av 30" in page
    recent = page.split('data-testid="senaste"')[1]
    assert "Receptpolicy" in recent and ">osäkert<" in recent


def test_a_failed_form_may_be_sent_again(staff_client: Client, sms_outbox: list[Any]) -> None:
    """Leverantören nere: samma formulär (samma engångs-id) får skickas igen när den är tillbaka."""
    template = MessageTemplate.objects.get(title="Receptpolicy")
    data = {"template": template.pk, "phone": "0701234567", "body": template.body(), "request_id": str(uuid.uuid4())}
    with override_settings(SMS_PROVIDERS=["tests.fakes.backends.DownBackend"]):
        assert staff_client.post("/", data).status_code == 200
    assert staff_client.post("/", data).status_code == 302
    assert len(sms_outbox) == 1
    assert list(SendAttempt.objects.order_by("pk").values_list("status", flat=True)) == ["failed", "sent"]


def send_page_queries(client: Client) -> int:
    """Antalet databasfrågor för sändsidan."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


@override_settings(SMS_RATE_LIMIT_PER_HOUR=100)
def test_send_page_stays_flat_with_many_sends(staff_client: Client, staff_user: Any) -> None:
    """Kvoten och "Dina senaste SMS" läses ur registret med lika många frågor för 1 som för 60 SMS."""

    def sends(count: int) -> None:
        """`count` skickade envägs-SMS i registret."""
        for _ in range(count):
            attempt = begin_attempt(purpose=Purpose.ONE_WAY, actor=staff_user, template_title="Receptpolicy")
            complete_attempt(attempt, AttemptStatus.SENT, provider="locmem", provider_message_id=str(uuid.uuid4()))

    sends(1)
    few = send_page_queries(staff_client)
    sends(59)
    assert send_page_queries(staff_client) == few
    assert "Kvar denna timme: 40 av 100" in staff_client.get("/").content.decode()


def test_only_send_and_record_calls_the_sender() -> None:
    """Portalens kod anropar `send_sms` på ett enda ställe (i `send_and_record`), och andra appar
    hämtar fel och resultat bara från `smsportal.sending`, aldrig från backendmodulerna."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    callers, backend_imports = [], []
    for app in ("accounts", "audit", "campaigns", "common", "config", "replies", "smsportal", "stats", "templates_app"):
        for path in (root / app).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                # `send_sms(...)` och `sending.send_sms(...)`; Sinch-SDK:ns egen `client.sms.batches.send_sms` räknas inte.
                function = node.func if isinstance(node, ast.Call) else None
                if (isinstance(function, ast.Name) and function.id == "send_sms") or (
                    isinstance(function, ast.Attribute)
                    and function.attr == "send_sms"
                    and isinstance(function.value, ast.Name)
                ):
                    callers.append(str(path.relative_to(root)))
                if (
                    isinstance(node, ast.ImportFrom)
                    and app != "smsportal"
                    and (node.module or "").startswith("smsportal.backends")
                ):
                    backend_imports.append(str(path.relative_to(root)))
    assert callers == ["smsportal/sending.py"]
    assert backend_imports == []
