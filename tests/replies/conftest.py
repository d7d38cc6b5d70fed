"""Fixturer för patientsidornas tester."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def empty_rate_limit() -> Iterator[None]:
    """Varje test börjar med tom cache: IP-gränsen (60/min) räknas annars över testerna."""
    cache.clear()
    yield
    cache.clear()
