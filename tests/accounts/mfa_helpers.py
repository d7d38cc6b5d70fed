"""Hjälpare för testerna av tvåstegsverifieringen: koder ur nyckeln, aktivering, verifierade sessioner."""

from __future__ import annotations

import base64
import re
import time
from typing import Any

from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.test_login import login
from tests.conftest import STAFF_PASSWORD

VERIFY_URL = reverse("accounts:mfa_verify")
ENROL_URL = reverse("accounts:mfa_enrol")
SECRET_ON_PAGE = re.compile(r'data-testid="hemlig-nyckel">([A-Z2-7 ]+)<')
RECOVERY_CODE = re.compile(r'class="mfa-code">([a-z2-9-]+)<')


def code_for(key: bytes, at: float | None = None) -> str:
    """Den sexsiffriga koden som en autentiseringsapp visar för nyckeln vid tiden `at` (nu)."""
    totp = TOTP(key)
    totp.time = time.time() if at is None else at
    return f"{totp.token():06d}"


def secret_from_page(html: str) -> bytes:
    """Nyckeln som aktiveringssidan visar i grupper, som en människa skriver in den i appen."""
    match = SECRET_ON_PAGE.search(html)
    assert match, "aktiveringssidan visar ingen nyckel"
    return base64.b32decode(match.group(1).replace(" ", ""))


def enrol(client: Client, username: str, next_url: str = "") -> tuple[bytes, list[str], Any]:
    """Lösenord, aktivering med en kod ur den visade nyckeln; returnerar nyckel, reservkoder och svaret."""
    data = {"username": username, "password": STAFF_PASSWORD}
    url = reverse("accounts:login") + (f"?next={next_url}" if next_url else "")
    response = client.post(url, data, REMOTE_ADDR="10.0.0.1")
    assert response["Location"] == ENROL_URL
    key = secret_from_page(client.get(ENROL_URL).content.decode())
    response = client.post(ENROL_URL, {"otp_token": code_for(key)}, REMOTE_ADDR="10.0.0.1")
    codes = RECOVERY_CODE.findall(response.content.decode())
    return key, codes, response


def password_step(client: Client, username: str, ip: str = "10.0.0.1") -> Any:
    """Bara lösenordet (första steget) via inloggningsformuläret."""
    return login(client, username, STAFF_PASSWORD, ip=ip)


def add_app(user: Any) -> TOTPDevice:
    """En aktiverad app för kontot (som efter en aktivering), utan att gå via sidorna."""
    return TOTPDevice.objects.create(user=user, name="Autentiseringsapp", confirmed=True)


def verified_client(user: Any) -> Client:
    """En klient inloggad med båda stegen: sessionen bär kontots aktiverade app."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=True).first() or add_app(user)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
