"""Tvåstegsverifiering: aktivering, kod ur den visade nyckeln, återanvänd kod, reservkoder, spärr, nollställning."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import RecoveryCodeDevice
from audit.models import Action, AuditEvent
from tests.accounts.mfa_helpers import (
    ENROL_URL,
    VERIFY_URL,
    add_app,
    code_for,
    enrol,
    password_step,
    secret_from_page,
    verified_client,
)
from tests.accounts.test_login import LOGIN_URL, login
from tests.conftest import STAFF_PASSWORD

pytestmark = pytest.mark.usefixtures("mfa_required")

NOW = "2026-11-20 08:00:00 +0100"
WRONG_CODE = "Koden stämmer inte eller har redan använts"
CAMPAIGN_URL = "/personal/akut-sms/42/"


def actions() -> list[str]:
    """Audit-händelserna i ordning."""
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


def send_code(client: Client, code: str, ip: str = "10.0.0.1") -> Any:
    """Skriver en kod i andra steget."""
    return client.post(VERIFY_URL, {"otp_token": code}, REMOTE_ADDR=ip)


def test_password_alone_leads_to_enrolment_not_into_the_portal(client: Client, staff_user: Any) -> None:
    """Rätt lösenord utan app: aktiveringen, inte startsidan; sessionen är inte inloggad."""
    response = password_step(client, "anna")
    assert response["Location"] == ENROL_URL
    assert SESSION_KEY not in client.session
    assert client.get("/")["Location"].startswith(LOGIN_URL)
    assert Action.LOGIN not in actions()


def test_enrolment_page_shows_qr_code_secret_and_issuer(client: Client, staff_user: Any) -> None:
    """QR-koden som SVG i sidan, nyckeln i fyrteckengrupper och utfärdaren; omladdning ger samma nyckel."""
    password_step(client, "anna")
    page = client.get(ENROL_URL).content.decode()
    device = TOTPDevice.objects.get(user=staff_user, confirmed=False)
    secret = base64.b32encode(device.bin_key).decode()
    assert " ".join(secret[i : i + 4] for i in range(0, 32, 4)) in page
    data_uri = page.split('src="data:image/svg+xml;base64,', 1)[1].split('"', 1)[0]
    assert base64.b64decode(data_uri).startswith(b"<svg")
    assert "<script" not in page.split("<main", 1)[1].split("</main>", 1)[0]
    assert "Södermalms Ortopedi" in page and "anna" in page
    assert "issuer=S%C3%B6dermalms%20Ortopedi" in device.config_url
    assert secret in client.get(ENROL_URL).content.decode().replace(" ", "")


def test_a_key_copied_in_another_login_never_becomes_the_users_app(client: Client, staff_user: Any) -> None:
    """Den som bara känner lösenordet kopierar nyckeln från aktiveringen och går; personen själv
    loggar in sedan, får en annan nyckel och aktiverar den: den kopierade nyckeln ger ingen kod som godtas."""
    password_step(client, "anna")
    stolen = secret_from_page(client.get(ENROL_URL).content.decode())
    own = Client()
    key, _, _ = enrol(own, "anna")
    assert key != stolen
    attacker = Client()
    password_step(attacker, "anna")
    assert attacker.get(VERIFY_URL).status_code == 200
    response = send_code(attacker, code_for(stolen), ip="10.0.0.9")
    assert SESSION_KEY not in attacker.session
    assert WRONG_CODE in response.content.decode()


def test_enrolment_with_a_code_from_the_shown_secret(client: Client, staff_user: Any) -> None:
    """En kod räknad ur nyckeln på sidan aktiverar appen, loggar in och visar tio reservkoder en gång."""
    key, codes, response = enrol(client, "anna", next_url=CAMPAIGN_URL)
    page = response.content.decode()
    assert response.status_code == 200
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "Jag har sparat koderna" in page and f'href="{CAMPAIGN_URL}"' in page
    assert client.session[SESSION_KEY] == str(staff_user.pk)
    assert client.get("/").status_code == 200
    assert actions() == [Action.MFA_ENROLLED, Action.LOGIN]
    # Koderna visas aldrig igen: samma formulär en gång till leder bara vidare.
    again = client.post(ENROL_URL, {"otp_token": code_for(key)}, follow=True)
    assert not any(code in again.content.decode() for code in codes)


def test_recovery_codes_are_stored_only_as_hashes(client: Client, staff_user: Any) -> None:
    """Reservkoderna finns varken i enhetens tabell eller i sessionerna i klartext."""
    _, codes, _ = enrol(client, "anna")
    stored = str(list(RecoveryCodeDevice.objects.values())) + "".join(
        str(session.get_decoded()) for session in Session.objects.all()
    )
    compact = stored.replace("-", "")
    assert not any(code in stored or code.replace("-", "") in compact for code in codes)
    assert len(RecoveryCodeDevice.objects.get(user=staff_user).code_hashes) == 10


def test_code_step_logs_in_and_keeps_next(client: Client, staff_user: Any) -> None:
    """Konto med app: lösenordet leder till koden, rätt kod till `next` (länken "Logga in igen")."""
    device = add_app(staff_user)
    response = client.post(f"{LOGIN_URL}?next={CAMPAIGN_URL}", {"username": "anna", "password": STAFF_PASSWORD})
    assert response["Location"] == VERIFY_URL
    assert "Tvåstegsverifiering" in client.get(VERIFY_URL).content.decode()
    response = send_code(client, code_for(device.bin_key))
    assert response.status_code == 302 and response["Location"] == CAMPAIGN_URL
    assert client.get("/").status_code == 200
    assert actions() == [Action.LOGIN]


def test_replayed_code_is_refused(client: Client, staff_user: Any) -> None:
    """Samma kod en gång till (samma 30-sekundersperiod) godtas inte; nästa periods kod gör det."""
    device = add_app(staff_user)
    with time_machine.travel(NOW, tick=False) as traveller:
        code = code_for(device.bin_key)
        password_step(client, "anna")
        assert send_code(client, code)["Location"] == "/"
        client.post(reverse("accounts:logout"))
        password_step(client, "anna")
        refused = send_code(client, code)
        assert refused.status_code == 200 and WRONG_CODE in refused.content.decode()
        assert SESSION_KEY not in client.session
        assert client.get("/").status_code == 302
        traveller.shift(2)  # förbi väntetiden efter ett fel, fortfarande samma period
        next_step = code_for(device.bin_key, at=device_time(30))
        assert send_code(client, next_step)["Location"] == "/"
    assert actions().count(Action.MFA_FAILED) == 1


def device_time(offset: float) -> float:
    """Klockan nu (i testets frusna tid) plus `offset` sekunder."""
    return time.time() + offset


def test_recovery_code_works_once(client: Client, staff_user: Any) -> None:
    """En reservkod loggar in en gång (stora bokstäver och mellanslag går bra), sedan aldrig igen."""
    _, codes, _ = enrol(client, "anna")
    client.post(reverse("accounts:logout"))
    password_step(client, "anna")
    typed = codes[0].upper().replace("-", " ")
    response = send_code(client, typed)
    assert response["Location"] == "/"
    assert "Du har 9 reservkoder kvar" in client.get("/").content.decode()
    event = AuditEvent.objects.get(action=Action.RECOVERY_CODE_USED)
    assert event.actor == staff_user and event.data == {"kvar": 9}

    client.post(reverse("accounts:logout"))
    password_step(client, "anna")
    with time_machine.travel(device_time(5)):  # förbi väntetiden efter det felet
        assert WRONG_CODE in send_code(client, codes[0]).content.decode()
    with time_machine.travel(device_time(10)):
        assert send_code(client, codes[1])["Location"] == "/"


def test_wrong_codes_lock_out_like_wrong_passwords(client: Client, staff_user: Any) -> None:
    """Fem fel koder spärrar kontot från adressen: spärrsidan, och varken kod eller lösenord kommer in."""
    device = add_app(staff_user)
    with time_machine.travel(NOW, tick=False) as traveller:
        password_step(client, "anna")
        for attempt in range(4):
            response = send_code(client, "000000")
            assert response.status_code == 200 and WRONG_CODE in response.content.decode(), attempt
            traveller.shift(60)  # förbi appens växande väntetid, så varje kod prövas
        locked = send_code(client, "000000")
        assert locked.status_code == 429
        assert "Inloggningen är tillfälligt spärrad" in locked.content.decode()
        assert send_code(client, code_for(device.bin_key))["Location"].startswith(LOGIN_URL)
        assert password_step(client, "anna").status_code == 429
    assert SESSION_KEY not in client.session
    assert actions()[:6] == [Action.MFA_FAILED] * 5 + [Action.LOCKOUT]


def test_wrong_code_is_masked_in_axes_records(client: Client, staff_user: Any) -> None:
    """django-axes sparar formulärdata från fel försök; en felskriven reservkod hamnar inte där."""
    add_app(staff_user)
    password_step(client, "anna")
    send_code(client, "k7mq-2xwe-p9hb")
    attempt = AccessAttempt.objects.get(username="anna")
    assert attempt.failures_since_start == 1
    assert "k7mq" not in attempt.post_data


def test_correct_code_right_after_a_wrong_one_must_wait(client: Client, staff_user: Any) -> None:
    """Appens väntetid efter fel i följd: rätt kod direkt efter ett fel får vänta, och räknas inte som fel."""
    device = add_app(staff_user)
    with time_machine.travel(NOW, tick=False) as traveller:
        password_step(client, "anna")
        send_code(client, "000000")
        waiting = send_code(client, code_for(device.bin_key)).content.decode()
        assert (
            "Efter en felaktig kod får du vänta en stund innan nästa försök. Vänta 1 sekund och försök igen." in waiting
        )
        traveller.shift(2)
        assert send_code(client, code_for(device.bin_key))["Location"] == "/"
    assert actions().count(Action.MFA_FAILED) == 1


def test_waiting_step_expires(client: Client, staff_user: Any) -> None:
    """Efter tio minuter utan kod börjar inloggningen om, med `next` kvar och ett svenskt besked."""
    device = add_app(staff_user)
    with time_machine.travel(NOW, tick=False) as traveller:
        client.post(f"{LOGIN_URL}?next={CAMPAIGN_URL}", {"username": "anna", "password": STAFF_PASSWORD})
        traveller.shift(11 * 60)
        response = send_code(client, code_for(device.bin_key))
        assert response["Location"] == f"{LOGIN_URL}?next=%2Fpersonal%2Fakut-sms%2F42%2F"
        assert "Logga in igen med lösenordet" in client.get(response["Location"]).content.decode()
    assert SESSION_KEY not in client.session


def test_password_alone_cannot_replace_an_enrolled_app(client: Client, staff_user: Any) -> None:
    """Med en aktiverad app leder aktiveringssidan till koden: lösenordet räcker inte för en ny app."""
    add_app(staff_user)
    password_step(client, "anna")
    assert client.get(ENROL_URL)["Location"] == VERIFY_URL
    assert client.post(ENROL_URL, {"otp_token": "123456"})["Location"] == VERIFY_URL
    assert TOTPDevice.objects.filter(user=staff_user).count() == 1


def test_code_pages_need_the_password_first(client: Client, db: Any) -> None:
    """Utan lösenordssteget leder kod- och aktiveringssidan till inloggningen."""
    for url in (VERIFY_URL, ENROL_URL):
        assert client.get(url)["Location"] == LOGIN_URL


def test_admin_reset_is_audited_and_leads_to_new_enrolment(staff_user: Any, admin_user: Any) -> None:
    """Administratören nollställer Annas app: loggat (vem, vems), Annas session tar slut, ny aktivering."""
    anna = verified_client(staff_user)
    admin = verified_client(admin_user)
    changelist = reverse("admin:auth_user_changelist")
    assert "Nollställ tvåstegsverifiering" in admin.get(changelist).content.decode()
    response = admin.post(
        changelist, {"action": "reset_second_factor", "_selected_action": [staff_user.pk]}, follow=True
    )
    assert "Tvåstegsverifieringen är nollställd för anna" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=staff_user).exists()
    event = AuditEvent.objects.get(action=Action.MFA_RESET)
    assert event.actor == admin_user and event.data == {"konto": "anna"}
    # Vems det gällde syns i audit-loggen som personalen läser den (/logg/), inte bara i admin.
    log = admin.get(reverse("audit:log")).content.decode()
    assert "Tvåstegsverifiering nollställd" in log and "kontot anna" in log

    after = anna.get("/", follow=True)
    assert "Inloggningen kräver tvåstegsverifiering" in after.content.decode()
    # Utloggningen gjorde portalen, inte Anna: det står i loggen.
    logout = AuditEvent.objects.get(action=Action.LOGOUT)
    assert (logout.actor, logout.status) == (staff_user, "andra faktorn saknas")
    assert password_step(anna, "anna")["Location"] == ENROL_URL
    assert admin.get("/").status_code == 200


def test_reset_needs_permission_to_change_users(staff_user: Any) -> None:
    """Personal utan administratörsrätt når inte nollställningen."""
    anna = verified_client(staff_user)
    response = anna.post(
        reverse("admin:auth_user_changelist"), {"action": "reset_second_factor", "_selected_action": [staff_user.pk]}
    )
    assert response.status_code in (302, 403)
    assert TOTPDevice.objects.filter(user=staff_user).exists()


def test_ensure_admin_enrols_at_first_login(client: Client, db: Any) -> None:
    """Administratören från `ensure_admin` får aktiveringen vid första inloggningen och når sedan admin."""
    call_command("ensure_admin")
    response = client.post(f"{LOGIN_URL}?next=/admin/", {"username": "admin", "password": "Test-Admin-Lösenord-42!"})
    assert response["Location"] == ENROL_URL
    assert client.get("/admin/", follow=True).redirect_chain[-1][0].startswith(LOGIN_URL)
    page = client.get(ENROL_URL).content.decode()
    response = client.post(ENROL_URL, {"otp_token": code_for(secret_from_page(page))})
    assert 'href="/admin/"' in response.content.decode()
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("has_app", [False, True])
def test_not_required_skips_the_second_step_for_accounts_without_app(
    client: Client, staff_user: Any, settings: Any, has_app: bool
) -> None:
    """STAFF_MFA_REQUIRED=false (utveckling): utan app bara lösenord; ett konto med app får ändå frågan om kod."""
    settings.STAFF_MFA_REQUIRED = False
    if has_app:
        add_app(staff_user)
    response = login(client, "anna", STAFF_PASSWORD)
    assert response["Location"] == (VERIFY_URL if has_app else "/")
    assert (client.get("/").status_code == 200) is not has_app


def test_data_protection_page_mentions_the_second_factor(client: Client, db: Any) -> None:
    """Dataskyddssidan säger att appens nyckel och (oläsbara) reservkoder sparas med personalens konto."""
    page = client.get(reverse("data_protection")).content.decode()
    assert "tvåstegsverifiering" in page and "reservkoder" in page
