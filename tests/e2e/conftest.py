"""Riktiga webbläsartester: Debians chromium styrd av Playwright mot en live-server."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from bench._common import CHROMIUM, CHROMIUM_ARGS  # samma chromium och flaggor som mätningarna

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"

# Playwrights synkrona API kör en händelseloop; Djangos skydd mot synkrona anrop i
# asynkron kontext slås av för testprocessen (live-servern kör i egna trådar).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def seeded_templates(transactional_db: Any) -> None:
    """Lägger in mallarna igen: live-serverns transaktionella tester tömmer databasen efter sig."""
    from django.apps import apps

    importlib.import_module("templates_app.migrations.0002_seed_templates").seed(apps, None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """En chromium-instans per testmodul.

    Playwrights synkrona API håller en händelseloop igång i huvudtråden så länge det är
    öppet; då vägrar asgiref:s `async_to_sync` (som kampanjhändelserna använder) i alla
    tester som körs efteråt. Per modul stängs den innan testerna utanför tests/e2e körs.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """En ny, tom webbläsarflik (egen kontext: egna kakor)."""
    context = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 860})
    tab = context.new_page()
    yield tab
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Sparar en skärmbild som testartefakt i test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page: Any, base_url: str, username: str, password: str) -> None:
    """Loggar in via inloggningssidan, som en människa gör."""
    page.goto(base_url + "/konto/logga-in/")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(base_url + "/")


def collect_console_errors(tab: Any) -> list[str]:
    """Samlar skriptfel och CSP-brott i en fliks konsol (listan ska vara tom efter testet)."""
    errors: list[str] = []
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.fixture
def console_errors(page: Any) -> list[str]:
    """Skriptfel och CSP-brott i personalens flik."""
    return collect_console_errors(page)
