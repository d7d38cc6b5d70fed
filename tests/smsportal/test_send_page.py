"""Sändsidan: tre handlingar, svenska fel, kvot, dubbelklick och audit."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import time_machine
from django.test import Client, override_settings

from audit.models import Action, AuditEvent
from smsportal.models import SendAttempt
from smsportal.quota import QUOTA_MESSAGE
from templates_app.models import MessageTemplate

INVALID = "Ogiltigt telefonnummer - ange format +46XXXXXXXXX"
PROVIDER_DOWN = "SMS kunde inte skickas - kontrollera API-inställningar"


def sms_events() -> Any:
    """Audit-händelserna för SMS (inloggningar borträknade)."""
    return AuditEvent.objects.filter(action__in=[Action.SMS_SENT, Action.SMS_FAILED])


def template(title: str = "Receptpolicy") -> MessageTemplate:
    """En inlagd mall."""
    return MessageTemplate.objects.get(title=title)


def send(client: Client, phone: str = "070-123 45 67", body: str | None = None, **extra: Any) -> Any:
    """Skickar formuläret som webbläsaren gör (mall, nummer, text, engångs-id)."""
    chosen = extra.pop("template", None) or template()
    data = {
        "template": chosen.pk,
        "phone": phone,
        "body": chosen.body() if body is None else body,
        "request_id": extra.pop("request_id", str(uuid.uuid4())),
        **extra,
    }
    return client.post("/", data)


def test_page_lists_active_templates_by_category(staff_client: Client) -> None:
    """Vänsterspalten visar kategorier och bara aktiva mallar; kvoten syns."""
    page = staff_client.get("/").content.decode()
    assert "Policyer &amp; regler" in page and "Receptpolicy" in page
    assert "Sjukskrivningspolicy" not in page  # inaktiv
    assert "Kvar denna timme: 30 av 30" in page


def test_send_sends_exact_text_and_confirms(staff_client: Client, sms_outbox: list[Any]) -> None:
    """Ett SMS med mallens text och signatur till E.164-numret; bekräftelse och tomt nummerfält."""
    response = send(staff_client, " 070-123 45 67 ")
    assert response.status_code == 302 and response["Location"] == "/"
    assert [(m.to, m.text) for m in sms_outbox] == [("+46701234567", template().sms_text())]
    page = staff_client.get("/").content.decode()
    assert "SMS skickat: Receptpolicy (1 SMS-del)." in page
    assert "Kvar denna timme: 29 av 30" in page
    assert 'name="phone" id="id_phone" class="form-control form-control-lg" value=""' in page


@pytest.mark.parametrize(
    "pasted",
    ["070-123 45 67", "0701234567", "+46 70 123 45 67", "0046 70 123 45 67", "+46701234567", "070 123 45 67\t"],
)
def test_common_pasted_forms_are_accepted(staff_client: Client, sms_outbox: list[Any], pasted: str) -> None:
    """Alla vanliga former normaliseras till E.164."""
    send(staff_client, pasted)
    assert [m.to for m in sms_outbox] == ["+46701234567"]


@pytest.mark.parametrize("bad", ["08-123 45 67", "+47 912 34 567", "070-123", "hej", "", "0701234567890123"])
def test_invalid_number_is_refused_and_nothing_is_lost(staff_client: Client, sms_outbox: list[Any], bad: str) -> None:
    """Fast nummer, utländskt, för kort, skräp: svenskt fel, inget skickat, allt ifyllt kvar."""
    body = "Hej! En egen text som inte får försvinna [LÄNK]"
    response = send(staff_client, bad, body=body)
    page = response.content.decode()
    assert response.status_code == 200
    assert (INVALID if bad else "Ange patientens mobilnummer.") in page
    assert body in page and f'value="{bad}"' in page
    assert f'name="template" value="{template().pk}"' in page
    assert sms_outbox == []
    # Ett formulär som inte går igenom är inget sändförsök: inget i registret, inget i audit-loggen.
    assert not sms_events().exists() and not SendAttempt.objects.exists()
    assert 'data-testid="senaste"' not in page


def test_missing_template_and_too_long_text(staff_client: Client, sms_outbox: list[Any]) -> None:
    """Utan mall, eller med för lång text, skickas inget och felet är på svenska."""
    response = staff_client.post("/", {"phone": "0701234567", "body": "Hej"})
    assert "Välj en mall till vänster." in response.content.decode()
    with override_settings(SMS_MAX_LENGTH=20):
        response = send(staff_client, body="x" * 21)
    assert "Meddelandet är för långt: högst 20 tecken." in response.content.decode()
    assert sms_outbox == []


def test_inactive_template_cannot_be_sent(staff_client: Client, sms_outbox: list[Any]) -> None:
    """En mall som avaktiverats medan sidan var öppen ger ett begripligt fel."""
    chosen = template()
    chosen.active = False
    chosen.save()
    response = send(staff_client, template=chosen)
    assert "Mallen finns inte längre. Välj en annan mall." in response.content.decode()
    assert sms_outbox == []


def test_double_submit_sends_one_sms(staff_client: Client, sms_outbox: list[Any]) -> None:
    """Samma formulär två gånger (dubbelklick, omskickat formulär) ger ett SMS."""
    request_id = str(uuid.uuid4())
    send(staff_client, request_id=request_id)
    response = send(staff_client, request_id=request_id)
    assert response.status_code == 302
    assert len(sms_outbox) == 1
    assert "var redan skickat" in staff_client.get("/").content.decode()
    assert AuditEvent.objects.filter(action=Action.SMS_SENT).count() == 1


def test_edited_text_is_sent_and_audited_as_edited(staff_client: Client, sms_outbox: list[Any]) -> None:
    """Redigerad text skickas (med signatur) och audit noterar att den redigerats."""
    send(staff_client, body="Hej! Ändrad text.")
    assert sms_outbox[0].text == "Hej! Ändrad text.\n/Södermalms Ortopedi"
    event = sms_events().get()
    assert event.edited is True
    send(staff_client)
    assert sms_events().order_by("-id").first().edited is False


def test_audit_event_has_metadata_only(staff_client: Client, staff_user: Any) -> None:
    """Audit: vem, kategori, rubrik, segment, status, leverantör – aldrig nummer eller text."""
    send(staff_client, "0701234567")
    event = sms_events().get()
    assert (event.actor, event.action, event.status) == (staff_user, Action.SMS_SENT, "skickat")
    assert (event.category, event.template_title) == ("Policyer & regler", "Receptpolicy")
    assert (event.segments, event.provider, event.edited) == (1, "locmem", False)
    row = str(sms_events().values().get())
    assert "1234567" not in row and "receptpolicy och" not in row


@override_settings(SMS_RATE_LIMIT_PER_HOUR=3)
def test_quota_is_exact_at_the_boundary(staff_client: Client, sms_outbox: list[Any]) -> None:
    """Tre går, det fjärde vägras med klockslaget; efter en rullande timme går det igen."""
    with time_machine.travel("2026-11-20 09:00 +0100", tick=False) as traveller:
        for minute in range(3):
            assert send(staff_client).status_code == 302
            traveller.shift(10 * 60)
        response = send(staff_client, body="Min text finns kvar")
        page = response.content.decode()
        assert f"{QUOTA_MESSAGE} (nästa SMS kan skickas kl. 10:00)." in page
        assert "Min text finns kvar" in page and "Kvar denna timme: 0 av 3" in page
        assert len(sms_outbox) == 3
        traveller.shift(30 * 60 - 1)  # 09:59:59: första SMS:et räknas fortfarande
        assert send(staff_client).status_code == 200
        traveller.shift(2)  # 10:00:01
        assert send(staff_client).status_code == 302
    assert len(sms_outbox) == 4
    failed = AuditEvent.objects.filter(action=Action.SMS_FAILED)
    assert [e.reason for e in failed] == ["kvoten överskriden"] * 2


def test_lowered_quota_names_the_time_a_send_is_allowed_again(staff_client: Client, sms_outbox: list[Any]) -> None:
    """Sänks kvoten under det redan skickade (5 SMS, ny gräns 3) gäller klockslaget då bara två
    återstår i timmen: det tredje senaste SMS:et (09:20) räknas till 10:20."""
    with time_machine.travel("2026-11-20 09:00 +0100", tick=False) as traveller:
        with override_settings(SMS_RATE_LIMIT_PER_HOUR=5):
            for _ in range(5):
                assert send(staff_client).status_code == 302
                traveller.shift(10 * 60)
        with override_settings(SMS_RATE_LIMIT_PER_HOUR=3):
            page = send(staff_client).content.decode()
    assert f"{QUOTA_MESSAGE} (nästa SMS kan skickas kl. 10:20)." in page
    assert "Kvar denna timme: 0 av 3" in page and len(sms_outbox) == 5


@override_settings(SMS_RATE_LIMIT_PER_HOUR=1)
def test_quota_is_per_user(staff_client: Client, admin_user: Any, sms_outbox: list[Any]) -> None:
    """En kollegas SMS räknas inte mot min kvot."""
    send(staff_client)
    other = Client()
    other.force_login(admin_user)
    assert send(other).status_code == 302
    assert len(sms_outbox) == 2


@override_settings(SMS_PROVIDERS=["tests.fakes.backends.DownBackend"])
def test_provider_down_gives_seed_error_and_keeps_input(staff_client: Client) -> None:
    """Leverantören nere: specifikationens felmeddelande, allt ifyllt kvar, audit misslyckat."""
    response = send(staff_client, "070-123 45 67", body="Viktig text")
    page = response.content.decode()
    assert PROVIDER_DOWN in page
    assert 'value="070-123 45 67"' in page and "Viktig text" in page
    event = sms_events().get()
    assert (event.action, event.status, event.provider) == (Action.SMS_FAILED, "misslyckat", "nere")
    assert "Kvar denna timme: 30 av 30" in page  # misslyckade räknas inte


@override_settings(SMS_PROVIDERS=["tests.fakes.backends.DownBackend", "locmem"])
def test_failover_to_next_provider(staff_client: Client, sms_outbox: list[Any]) -> None:
    """En leverantör som är nere hoppas över; nästa skickar."""
    assert send(staff_client).status_code == 302
    assert len(sms_outbox) == 1
    assert sms_events().get().provider == "locmem"


@override_settings(SMS_PROVIDERS=["tests.fakes.backends.RejectingBackend", "locmem"])
def test_permanent_error_is_not_failed_over_and_reason_is_redacted(staff_client: Client, sms_outbox: list[Any]) -> None:
    """Ett permanent fel provas inte hos nästa; numret i leverantörens svar når inte audit."""
    response = send(staff_client, "0701234567")
    assert PROVIDER_DOWN in response.content.decode()
    assert sms_outbox == []
    event = sms_events().get()
    assert event.reason == "401 obehörig för [nummer]"


def test_audit_page_for_admins_only(staff_client: Client, admin_client_: Client) -> None:
    """Personal ser inte audit-sidan; administratören gör det."""
    response = staff_client.get("/logg/")
    assert response.status_code == 403 and "Åtkomst nekad" in response.content.decode()
    assert admin_client_.get("/logg/").status_code == 200


def test_dev_outbox_only_in_development(staff_client: Client, capsys: Any) -> None:
    """Konsolbackenden skriver ut maskerat nummer; utkorgen visar SMS:et (maskerat) bara med DEBUG på."""
    with override_settings(SMS_PROVIDERS=["console"]):
        assert staff_client.get("/utveckling/utkorg/").status_code == 404
        with override_settings(DEBUG=True):
            send(staff_client, "070-123 45 67")
            page = staff_client.get("/utveckling/utkorg/").content.decode()
            assert "070-123 ****" in page and "receptpolicy" in page
            assert "+46701234567" not in page and "45 67" not in page
            assert "Utvecklingsutkorg" in staff_client.get("/").content.decode()
    printed = capsys.readouterr().out
    assert "070-123 ****" in printed and "+46701234567" not in printed


def test_multiline_text_is_sent_as_counted(staff_client: Client, sms_outbox: list[Any]) -> None:
    """Webbläsaren skickar radbrytningar som CRLF; SMS:et får LF, som räknaren räknar."""
    send(staff_client, body="Rad ett\r\nRad två")
    assert sms_outbox[0].text == "Rad ett\nRad två\n/Södermalms Ortopedi"


def test_template_title_with_a_date_sends_and_is_audited(staff_client: Client, sms_outbox: list[Any]) -> None:
    """Ett datum i rubriken är inget telefonnummer: SMS:et skickas och loggas."""
    chosen = template()
    chosen.title = "Stängt 2026-12-24"
    chosen.save()
    assert send(staff_client, template=chosen).status_code == 302
    assert sms_events().get().template_title == "Stängt 2026-12-24"


def test_template_title_with_a_phone_number_is_refused_before_sending(
    staff_client: Client, sms_outbox: list[Any]
) -> None:
    """En rubrik med ett telefonnummer skulle hamna i loggen: inget SMS, ett begripligt besked."""
    chosen = template()
    chosen.title = "Ring 08-123 45 67"
    chosen.save()
    response = send(staff_client, template=chosen)
    assert "kan inte loggas" in response.content.decode()
    assert sms_outbox == []
