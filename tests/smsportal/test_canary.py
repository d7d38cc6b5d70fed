"""Kanarieprov: efter sändning finns varken numret eller texten i databasen, cachen eller loggarna."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from django.test import Client, override_settings

from templates_app.models import MessageTemplate
from tests.privacy import cache_text, database_text, leaks, phone_forms

SENTINEL_PHONE = "+46709876543"
SENTINEL_TEXT = "Kanariefågel QX7ZP vet ingen om"


def post(client: Client, phone: str, body: str) -> Any:
    """Skickar sändformuläret."""
    template = MessageTemplate.objects.get(title="Väntetider")
    return client.post("/", {"template": template.pk, "phone": phone, "body": body, "request_id": str(uuid.uuid4())})


def test_sentinel_number_and_text_are_nowhere(
    staff_client: Client, sms_outbox: list[Any], caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """Skickat, misslyckat och ogiltigt försök: inget nummer och ingen text sparas eller loggas."""
    caplog.set_level(logging.DEBUG)
    assert post(staff_client, "070-987 65 43", SENTINEL_TEXT).status_code == 302
    with override_settings(SMS_PROVIDERS=["tests.fakes.backends.RejectingBackend"]):
        assert post(staff_client, "0709876543", SENTINEL_TEXT).status_code == 200
    assert post(staff_client, "070-987 65 4", SENTINEL_TEXT).status_code == 200  # ogiltigt
    staff_client.get("/")

    assert [m.to for m in sms_outbox] == [SENTINEL_PHONE]  # det riktiga SMS:et gick iväg
    out, err = capfd.readouterr()
    needles = [*phone_forms(SENTINEL_PHONE), "070-987 65 4", SENTINEL_TEXT, "QX7ZP"]
    assert (
        leaks(
            needles,
            databas=database_text(),
            cache=cache_text(),
            loggar=caplog.text,
            utskrift=out + err,
        )
        == []
    )
