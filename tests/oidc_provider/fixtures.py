"""pytest-fixturer för testerna som loggar in via testleverantören (importeras i testmodulerna)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.oidc_provider.server import Provider, running_provider

CALLBACK_PATH = "/konto/oidc/callback/"


@pytest.fixture(scope="module")
def provider(live_server: Any) -> Iterator[Provider]:
    """Testleverantören, med portalens (live_server) återkopplingsadress registrerad."""
    with running_provider(live_server.url + CALLBACK_PATH) as running:
        yield running


@pytest.fixture
def oidc_settings(settings: Any, provider: Provider) -> Any:
    """Portalen med OIDC påslaget mot testleverantören och tvåstegsverifieringen obligatorisk."""
    for name, value in provider.portal_settings().items():
        setattr(settings, name, value)
    settings.STAFF_MFA_REQUIRED = True
    return settings
