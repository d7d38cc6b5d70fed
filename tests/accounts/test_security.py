"""Säkerhet: check --deploy, startkontroller, säkerhetshuvuden, inga inline-skript."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

BASE_DIR = Path(settings.BASE_DIR)


def production_env(**changes: str) -> dict[str, str]:
    """Miljövariabler som i drift: DEBUG av, stark nyckel, HTTPS-adress."""
    env = dict(os.environ)
    for name in ("ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)
    env.update(
        ENV_FILE="",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        PHONE_HASH_KEY=secrets.token_urlsafe(50),
        PHONE_ENCRYPTION_KEYS=f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
        SMS_WEBHOOK_TOKEN=secrets.token_urlsafe(48),
        ADMIN_PASSWORD="Ett-Riktigt-Starkt-Lösenord-2026",
        PUBLIC_BASE_URL="https://sms.sodermalmsortopedi.se",
        SMS_PROVIDERS="twilio",
        TWILIO_ACCOUNT_SID="AC" + secrets.token_hex(16),
        TWILIO_AUTH_TOKEN=secrets.token_hex(16),
        CLINIC_PHONE="08-123 45 67",
    )
    env.update(changes)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Kör manage.py i en egen process med given miljö."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_settings() -> None:
    """`check --deploy --fail-level WARNING` går igenom med driftlika variabler."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_warns_without_clinic_phone() -> None:
    """Utan CLINIC_PHONE kan patientsidorna inte säga vart man ringer: `check --deploy` varnar."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(CLINIC_PHONE=""))
    assert result.returncode != 0 and "config.W001" in result.stderr and "CLINIC_PHONE saknas" in result.stderr


def test_missing_secret_key_stops_startup() -> None:
    """Utan SECRET_KEY (och DEBUG av) startar inget, med ett tydligt svenskt besked."""
    result = manage("check", env=production_env(SECRET_KEY=""))
    assert result.returncode != 0
    assert "SECRET_KEY saknas" in result.stderr


def test_missing_phone_hash_key_stops_startup() -> None:
    """Utan PHONE_HASH_KEY (och DEBUG av) startar inget: nummerhashen kräver en egen nyckel."""
    result = manage("check", env=production_env(PHONE_HASH_KEY=""))
    assert result.returncode != 0 and "PHONE_HASH_KEY saknas" in result.stderr


@pytest.mark.parametrize("name", ["SECRET_KEY", "PHONE_HASH_KEY", "SMS_WEBHOOK_TOKEN", "TWILIO_AUTH_TOKEN"])
def test_example_secrets_stop_startup(name: str) -> None:
    """Ett värde kopierat ur .env.example stoppar starten när DEBUG är av."""
    example = re.search(rf"^{name}=(.*)$", (BASE_DIR / ".env.example").read_text(encoding="utf-8"), re.M).group(1)
    result = manage("check", env=production_env(**{name: example}))
    assert result.returncode != 0 and f"{name} har exempelvärdet" in result.stderr


def test_unused_provider_may_keep_example_values() -> None:
    """En leverantör som inte står i SMS_PROVIDERS får behålla raderna ur .env.example: starten går igenom.

    IT kopierar .env.example och väljer en leverantör; de andra leverantörernas "xxx" ska inte
    tvinga fram påhittade uppgifter till tjänster kliniken inte använder.
    """
    unused = {"SINCH_SERVICE_PLAN_ID": "xxx", "SINCH_API_TOKEN": "xxx", "ELKS46_API_USERNAME": "xxx"}
    result = manage("check", env=production_env(**unused))
    assert result.returncode == 0, result.stderr


def test_example_admin_password_stops_startup() -> None:
    """Exempellösenordet från .env.example stoppar starten när DEBUG är av."""
    result = manage("check", env=production_env(ADMIN_PASSWORD="byt-detta-lösenord"))
    assert result.returncode != 0
    assert "exempellösenordet" in result.stderr


def test_offline_backend_fails_deploy_check() -> None:
    """I drift varnar check --deploy för locmem: inga riktiga SMS skulle skickas."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(SMS_PROVIDERS="locmem"))
    assert result.returncode != 0 and "smsportal.W001" in result.stderr


def test_console_backend_stops_startup_without_debug() -> None:
    """console sparar SMS-texterna i utvecklingsutkorgen: med DEBUG av startar portalen inte alls."""
    result = manage("check", env=production_env(SMS_PROVIDERS="twilio,console"))
    assert result.returncode != 0
    assert "SMS_PROVIDERS innehåller console, som bara får användas i utvecklingsläge" in result.stderr


def test_missing_provider_credential_stops_startup() -> None:
    """En vald leverantör utan inloggningsuppgifter stoppar starten med ett svenskt besked."""
    result = manage("check", env=production_env(SMS_PROVIDERS="sinch,twilio"))
    assert result.returncode != 0
    assert "SINCH_API_TOKEN" in result.stderr


def test_invalid_sender_id_stops_startup() -> None:
    """Avsändarnamnet måste vara 3–11 tecken, bokstäver/siffror, börja med bokstav."""
    for bad in ["SO", "1Klinik", "Södermalms Ortopedi", "Klinik-SMS"]:
        result = manage("check", env=production_env(SMS_SENDER_ID=bad))
        assert result.returncode != 0 and "SMS_SENDER_ID" in result.stderr, bad


def test_development_mode_starts_without_secrets() -> None:
    """Med DEBUG på startar portalen utan hemligheter (inbäddat utvecklingsläge)."""
    env = production_env(
        DEBUG="true",
        SECRET_KEY="",
        PUBLIC_BASE_URL="",
        PHONE_HASH_KEY="",
        PHONE_ENCRYPTION_KEYS="",
        SMS_WEBHOOK_TOKEN="",
    )
    env.pop("SMS_PROVIDERS")  # utvecklingsläget väljer konsolbackenden själv
    result = manage("check", env=env)
    assert result.returncode == 0, result.stderr


def test_env_example_documents_every_setting() -> None:
    """Varje miljövariabel som inställningarna läser finns i .env.example."""
    source = (BASE_DIR / "config" / "settings.py").read_text(encoding="utf-8")
    used = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z0-9_]+)"', source))
    documented = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", (BASE_DIR / ".env.example").read_text(encoding="utf-8"), re.M))
    assert used, "hittade inga variabler i settings.py"
    assert used <= documented, f"saknas i .env.example: {sorted(used - documented)}"


def test_security_headers_on_logged_in_page(staff_client: Client) -> None:
    """Strikt CSP utan unsafe-inline, no-store, inga ramar, ingen referer."""
    response = staff_client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "no-store" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@override_settings(SECURE_HSTS_SECONDS=31_536_000, SECURE_SSL_REDIRECT=True)
def test_hsts_and_https_redirect(client: Client, db: Any) -> None:
    """I drift: HTTP skickas till HTTPS och HTTPS-svar har HSTS."""
    assert client.get(reverse("accounts:login")).status_code == 301
    response = client.get(reverse("accounts:login"), secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_production_cookies_are_secure() -> None:
    """Med DEBUG av är sessions- och CSRF-kakor Secure som standard."""
    code = "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT)"
    result = manage("shell", "-c", code, env=production_env())
    assert result.stdout.split()[-3:] == ["True", "True", "True"], result.stderr


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"\sstyle\s*=", re.I)


def test_no_inline_scripts_or_styles_in_templates() -> None:
    """Inga inline-skript, händelseattribut eller style-attribut i portalens mallar (CSP)."""
    for template in (BASE_DIR / "templates").rglob("*.html"):
        html = template.read_text(encoding="utf-8")
        assert not INLINE_SCRIPT.search(html), template
        assert not INLINE_HANDLER.search(html), template
        assert not INLINE_STYLE.search(html), template


def test_nothing_loaded_from_third_parties(staff_client: Client) -> None:
    """Sidorna laddar bara portalens egna filer (ingen CDN)."""
    html = staff_client.get("/").content.decode()
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not url.startswith(("http://", "https://", "//")), url


@pytest.mark.parametrize("url", ["/finns-inte/", "/static/finns-inte.css"])
def test_not_found_is_swedish(client: Client, db: Any, url: str) -> None:
    """404-sidan är på svenska och röjer inget tekniskt."""
    response = client.get(url)
    assert response.status_code == 404
    if "static" not in url:
        assert "Sidan finns inte" in response.content.decode()
