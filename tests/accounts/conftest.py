"""Fixturer för kontotesterna."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def mfa_required(settings: Any) -> Any:
    """Tvåstegsverifiering krävs (som i drift; testmiljön har den annars av)."""
    settings.STAFF_MFA_REQUIRED = True
    return settings
