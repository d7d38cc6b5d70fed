"""CAMPAIGN_QUIET_HOURS: två timmar (t.ex. 20-07) eller tomt; annat stoppar starten med ett svenskt fel."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.testenv import TEST_ENVIRONMENT


def load_settings(value: str) -> subprocess.CompletedProcess[str]:
    """Läser inställningarna i en ny process med CAMPAIGN_QUIET_HOURS satt."""
    env = {**os.environ, **TEST_ENVIRONMENT, "CAMPAIGN_QUIET_HOURS": value}
    code = "import config.settings as s; print(repr(s.CAMPAIGN_QUIET_HOURS))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("value, shown", [("20-07", "'20-07'"), (" 6-8 ", "'6-8'"), ("", "''")])
def test_valid_quiet_hours_are_read(value: str, shown: str) -> None:
    """Två timmar, eller tomt (ingen tyst tid)."""
    result = load_settings(value)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == shown


@pytest.mark.parametrize("value", ["20", "25-07", "20:00-07:00", "kväll"])
def test_invalid_quiet_hours_stop_the_start(value: str) -> None:
    """Ett felskrivet värde stoppar starten med ett svenskt fel som säger hur det ska se ut."""
    result = load_settings(value)
    assert result.returncode != 0
    assert "CAMPAIGN_QUIET_HOURS ska vara två timmar, t.ex. 20-07, eller tomt" in result.stderr
