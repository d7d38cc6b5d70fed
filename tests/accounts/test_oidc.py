"""Inloggning via klinikens identitetsleverantör (OpenID Connect) mot en riktig leverantör.

Testleverantören (django-oauth-toolkit, tests/oidc_provider/) körs som en egen serverprocess på
127.0.0.1; portalen är pytest-djangos live_server med mozilla-django-oidc. Hela flödet går
över HTTP: inloggning hos leverantören, koden tillbaka till portalen, token, signerad
id-token, userinfo.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import OidcIdentity
from accounts.roles import ADMIN_GROUP
from audit.models import Action, AuditEvent
from config.asgi import application
from tests.campaigns.factories import make_campaign
from tests.oidc_provider.fixtures import CALLBACK_PATH, oidc_settings, provider  # noqa: F401 (fixturer)
from tests.oidc_provider.server import Provider

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(portal_url: str, provider: Provider, username: str) -> tuple[requests.Session, requests.Response]:
    """Går igenom hela inloggningen som en webbläsare: portalen, leverantörens formulär, tillbaka."""
    browser = requests.Session()
    return browser, submit_provider_form(browser, portal_url, provider, username)


def submit_provider_form(
    browser: requests.Session, portal_url: str, provider: Provider, username: str, **options: Any
) -> requests.Response:
    """Knappen i portalen leder till leverantörens formulär; fyller i och skickar det."""
    form = browser.get(portal_url + "/konto/oidc/start/", timeout=10)
    assert form.url.startswith(provider.base_url + "/logga-in/"), form.url
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    next_url = re.search(r'name="next" value="([^"]*)"', form.text).group(1).replace("&amp;", "&")
    data = {"csrfmiddlewaretoken": token, "username": username, "password": provider.password, "next": next_url}
    return browser.post(form.url, data=data, timeout=10, **options)


def test_staff_group_user_lands_on_send_page_without_totp(
    live_server: Any, provider: Provider, oidc_settings: Any
) -> None:
    """Personalgruppen ger ett nytt, aktivt personalkonto kopplat till `sub`; ingen kodfråga, startsidan visas."""
    _, landed = sign_in(live_server.url, provider, "klara")

    assert landed.status_code == 200
    assert landed.url == live_server.url + "/"
    assert "Inloggad som <strong>Klara Kirurg</strong>" in landed.text
    identity = OidcIdentity.objects.get()
    user = identity.user
    assert (user.username, user.is_active, user.is_staff, user.has_usable_password()) == ("klara", True, False, False)
    assert AuditEvent.objects.filter(action=Action.LOGIN, actor=user).count() == 1


def test_user_without_staff_group_is_refused_in_swedish(
    live_server: Any, provider: Provider, oidc_settings: Any
) -> None:
    """Utan personalgruppen: en svensk sida, 403, inget konto skapas och nekandet loggas."""
    _, refused = sign_in(live_server.url, provider, "olle")

    assert refused.status_code == 403
    assert "Inloggningen nekades" in refused.text
    assert "har inte behörighet till SMS-portalen" in refused.text
    assert not get_user_model().objects.filter(first_name="Olle").exists()
    assert not OidcIdentity.objects.exists()
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED, reason="ingen behörig grupp").count() == 1


def test_matched_on_stable_claim_not_on_username(live_server: Any, provider: Provider, oidc_settings: Any) -> None:
    """Ett befintligt lokalt konto med samma användarnamn tas inte över; andra inloggningen hittar samma konto."""
    local = get_user_model().objects.create_user("klara", password="lokalt-losenord-1234")
    sign_in(live_server.url, provider, "klara")
    sign_in(live_server.url, provider, "klara")

    identity = OidcIdentity.objects.get()
    assert identity.user != local
    assert identity.user.username.startswith("klara-")
    assert get_user_model().objects.count() == 2


def test_admin_group_makes_admin_and_losing_it_demotes(
    live_server: Any, provider: Provider, oidc_settings: Any
) -> None:
    """Gruppen i OIDC_ADMIN_GROUPS ger is_staff och "Administratörer"; utan den vid nästa inloggning tas de bort."""
    oidc_settings.OIDC_ADMIN_GROUPS = [provider.staff_group]
    sign_in(live_server.url, provider, "klara")
    user = OidcIdentity.objects.get().user
    assert user.is_staff and user.groups.filter(name=ADMIN_GROUP).exists()

    oidc_settings.OIDC_ADMIN_GROUPS = ["sms-admin"]
    sign_in(live_server.url, provider, "klara")
    user.refresh_from_db()
    assert not user.is_staff and not user.groups.filter(name=ADMIN_GROUP).exists()


def test_websocket_accepts_oidc_session_with_mfa_required(
    live_server: Any, provider: Provider, oidc_settings: Any
) -> None:
    """Kampanjsidans websocket godtar en OIDC-session (leverantören äger andra faktorn) när koden krävs."""
    browser, _ = sign_in(live_server.url, provider, "klara")
    session_key = next(cookie.value for cookie in browser.cookies if cookie.name == oidc_settings.SESSION_COOKIE_NAME)
    campaign = make_campaign(OidcIdentity.objects.get().user)

    async def scenario() -> bool:
        """Ansluter med OIDC-sessionens kaka; sant om anslutningen godtogs."""
        headers = [
            (b"origin", b"http://testserver"),
            (b"host", b"testserver"),
            (b"cookie", f"{oidc_settings.SESSION_COOKIE_NAME}={session_key}".encode()),
        ]
        socket = WebsocketCommunicator(application, f"/ws/campaigns/{campaign.pk}/", headers=headers)
        connected, _ = await socket.connect()
        await socket.disconnect()
        return connected

    assert async_to_sync(scenario)()


def test_forged_code_gives_swedish_page_not_500(live_server: Any, provider: Provider, oidc_settings: Any) -> None:
    """En ändrad kod i återkopplingen (leverantören svarar 400 på tokenbytet) ger en svensk sida, ingen inloggning."""
    browser = requests.Session()
    authorize = submit_provider_form(browser, live_server.url, provider, "klara", allow_redirects=False)
    callback = browser.get(provider.base_url + authorize.headers["Location"], timeout=10, allow_redirects=False)
    forged = re.sub(r"code=[^&]+", "code=förfalskad", callback.headers["Location"])

    response = browser.get(forged, timeout=10)

    assert response.status_code == 403
    assert "Inloggningen via klinikens inloggning kunde inte slutföras" in response.text
    assert not OidcIdentity.objects.exists()


def test_off_without_client_id(db: Any) -> None:
    """Utan OIDC_RP_CLIENT_ID: ingen knapp på inloggningssidan och adresserna svarar 404."""
    client = Client()
    assert "Logga in med klinikens inloggning" not in client.get("/konto/logga-in/").content.decode()
    assert client.get("/konto/oidc/start/").status_code == 404
    assert client.get(CALLBACK_PATH + "?code=x&state=y").status_code == 404


def test_button_shown_when_on(client: Client, oidc_settings: Any) -> None:
    """Med OIDC påslaget visar inloggningssidan knappen, med `next` bevarad."""
    page = client.get("/konto/logga-in/?next=/personal/akut-sms/").content.decode()
    assert 'href="/konto/oidc/start/?next=/personal/akut-sms/"' in page
    assert "Logga in med klinikens inloggning" in page


def test_oidc_backend_in_session_counts_only_while_oidc_is_on(settings: Any) -> None:
    """En session märkt med OIDC-backend godtas utan kod bara när OIDC är påslaget; en lösenordssession aldrig."""
    from django.contrib.sessions.backends.signed_cookies import SessionStore

    from accounts.mfa import session_is_verified
    from accounts.oidc import BACKEND_PATH

    settings.STAFF_MFA_REQUIRED = True
    settings.OIDC_RP_CLIENT_ID = "sms-portalen"
    oidc_session, password_session = SessionStore(), SessionStore()
    oidc_session.update({"_auth_user_id": "1", "_auth_user_backend": BACKEND_PATH})
    password_session.update({"_auth_user_id": "1", "_auth_user_backend": "django.contrib.auth.backends.ModelBackend"})
    assert session_is_verified(oidc_session)
    assert not session_is_verified(password_session)
    settings.OIDC_RP_CLIENT_ID = ""
    assert not session_is_verified(oidc_session)


def test_deactivated_or_switched_off_oidc_session_is_logged_out_not_an_error(
    live_server: Any, provider: Provider, oidc_settings: Any
) -> None:
    """En administratör stänger av kontot: nästa sida är inloggningen, och nästa inloggning via
    leverantören nekas (kontot aktiveras inte igen). OIDC avslaget: öppna sessioner loggas ut, inget 500."""
    browser, landed = sign_in(live_server.url, provider, "klara")
    assert landed.url == live_server.url + "/"
    user = OidcIdentity.objects.get().user
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    assert browser.get(live_server.url + "/", timeout=10).url.startswith(live_server.url + "/konto/logga-in/")
    _, again = sign_in(live_server.url, provider, "klara")
    assert "Inloggad som" not in again.text
    assert not get_user_model().objects.get(pk=user.pk).is_active

    get_user_model().objects.filter(pk=user.pk).update(is_active=True)
    browser, landed = sign_in(live_server.url, provider, "klara")
    assert landed.url == live_server.url + "/"
    oidc_settings.OIDC_RP_CLIENT_ID = ""
    page = browser.get(live_server.url + "/", timeout=10)
    assert page.status_code == 200 and page.url.startswith(live_server.url + "/konto/logga-in/")


def test_password_form_never_reaches_the_oidc_backend(client: Client, oidc_settings: Any, staff_user: Any) -> None:
    """Lösenordsformuläret med `code` och `state` i adressen prövar aldrig en kod hos leverantören."""
    from accounts.oidc import PortalOIDCBackend

    assert PortalOIDCBackend().authenticate(None, username="anna", password="fel") is None
    response = client.post("/konto/logga-in/?code=x&state=y", {"username": "anna", "password": "fel-lösenord"})
    assert response.status_code == 200 and "Inloggad som" not in response.content.decode()


def test_client_id_without_endpoints_stops_start() -> None:
    """OIDC_RP_CLIENT_ID utan leverantörens adresser och grupper stoppar starten med ett svenskt fel."""
    from tests.accounts.test_security import manage, production_env

    result = manage("check", env=production_env(OIDC_RP_CLIENT_ID="sms-portalen", OIDC_RP_CLIENT_SECRET="hemlig"))
    assert result.returncode != 0
    assert "OIDC_RP_CLIENT_ID är satt men följande saknas: OIDC_OP_AUTHORIZATION_ENDPOINT" in result.stderr
