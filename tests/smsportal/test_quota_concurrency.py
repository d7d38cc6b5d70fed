"""Kvoten under samtidiga sändningar från två flikar: det 31:a vägras alltid."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from django.db import connection, connections
from django.test import override_settings

from audit.models import Action, AuditEvent
from smsportal.models import AttemptStatus, Purpose, SendAttempt
from smsportal.oneway import SendRefused, send_template_sms
from templates_app.models import Category, MessageTemplate
from tests.fakes.backends import SlowBackend

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="radlåset prövas mot PostgreSQL (andra körningen i .ci/run); SQLite köar redan alla skrivningar",
)
@override_settings(SMS_RATE_LIMIT_PER_HOUR=3, SMS_PROVIDERS=["tests.fakes.backends.SlowBackend"])
def test_two_tabs_cannot_both_get_the_last_sms(staff_user: Any) -> None:
    """Två samtidiga sändningar när en plats återstår: exakt en skickas, den andra får kvotbeskedet."""
    category = Category.objects.create(name="Test", order=1)
    template = MessageTemplate.objects.create(category=category, title="Test", text="Hej")
    for _ in range(2):
        SendAttempt.objects.create(actor=staff_user, purpose=Purpose.ONE_WAY, status=AttemptStatus.SENT)
    SlowBackend.sent.clear()
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def tab() -> None:
        """En flik som trycker Skicka samtidigt som den andra."""
        start.wait()
        try:
            send_template_sms(
                user=staff_user, template=template, to="+46701234567", body="Hej", request_id=str(uuid.uuid4())
            )
            outcomes.append("skickat")
        except SendRefused as refused:
            outcomes.append(refused.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tab) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes)[1] == "skickat" and sorted(outcomes)[0].startswith("Du har överskridit SMS-kvoten")
    assert len(SlowBackend.sent) == 1
    assert SendAttempt.objects.filter(status=AttemptStatus.SENT).count() == 3
    assert AuditEvent.objects.filter(action=Action.SMS_SENT).count() == 1
