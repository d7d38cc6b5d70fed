"""Webbläsartest: logga in, se startsidan, logga ut."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import STAFF_PASSWORD
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.browser


def test_login_start_logout(page: Any, live_server: Any, staff_user: Any) -> None:
    """En receptionist loggar in, ser sitt namn och loggar ut med knappen."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(live_server.url + "/")
    assert "/konto/logga-in/" in page.url
    page.get_by_label("Användarnamn").fill("anna")
    page.get_by_label("Lösenord").fill("fel")
    page.get_by_role("button", name="Logga in").click()
    assert page.get_by_role("alert").inner_text().startswith("Ange ett korrekt användarnamn")

    page.get_by_label("Lösenord").fill(STAFF_PASSWORD)
    page.get_by_label("Lösenord").press("Enter")
    page.wait_for_url(live_server.url + "/")
    assert "Inloggad som Anna Receptionist" in page.get_by_test_id("inloggad-som").inner_text()
    screenshot(page, "startsida")

    page.get_by_role("button", name="Logga ut").click()
    page.wait_for_url("**/konto/logga-in/")
    page.goto(live_server.url + "/")
    assert "/konto/logga-in/" in page.url
    assert errors == [], errors  # inga CSP-brott eller skriptfel
