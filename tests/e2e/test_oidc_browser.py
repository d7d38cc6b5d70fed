"""Webbläsartest: inloggning via klinikens identitetsleverantör (en riktig OIDC-leverantör som testet startar)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import screenshot
from tests.oidc_provider.fixtures import oidc_settings, provider  # noqa: F401 (fixturer)
from tests.oidc_provider.server import Provider

pytestmark = pytest.mark.browser


def sign_in_at_provider(page: Any, live_server: Any, provider: Provider, username: str) -> None:
    """Knappen på portalens inloggningssida, sedan leverantörens formulär, som en människa gör."""
    page.goto(live_server.url + "/konto/logga-in/")
    page.get_by_role("link", name="Logga in med klinikens inloggning").click()
    page.wait_for_url(provider.base_url + "/logga-in/**")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(provider.password)
    page.get_by_role("button", name="Logga in").click()


def test_staff_group_user_lands_on_send_page(
    page: Any, live_server: Any, provider: Provider, oidc_settings: Any
) -> None:
    """Personalgruppen: tillbaka i portalen på skicka-sidan, inloggad, utan fråga om engångskod."""
    page.goto(live_server.url + "/konto/logga-in/")
    screenshot(page, "oidc-inloggningssida")
    sign_in_at_provider(page, live_server, provider, "klara")

    page.wait_for_url(live_server.url + "/")
    assert "Inloggad som Klara Kirurg" in page.get_by_test_id("inloggad-som").inner_text()
    assert page.get_by_test_id("raknare").is_visible()
    screenshot(page, "oidc-inloggad-skicka-sida")


def test_user_without_staff_group_is_refused_in_swedish(
    page: Any, live_server: Any, provider: Provider, oidc_settings: Any
) -> None:
    """Utan personalgruppen: sidan "Inloggningen nekades" på svenska, och portalen är fortfarande låst."""
    sign_in_at_provider(page, live_server, provider, "olle")

    page.wait_for_url(live_server.url + "/konto/oidc/callback/**")
    assert page.get_by_role("heading", name="Inloggningen nekades").is_visible()
    assert "har inte behörighet till SMS-portalen" in page.get_by_test_id("oidc-nekad").inner_text()
    screenshot(page, "oidc-nekad")
    page.goto(live_server.url + "/")
    assert "/konto/logga-in/" in page.url
