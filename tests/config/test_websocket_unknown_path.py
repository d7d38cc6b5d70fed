"""En websocket till en sökväg som inte är en websocket vägras tyst: ingen 500, inget felmejl, ingen kod i loggen."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.campaigns.factories import make_campaign
from tests.campaigns.test_live import session_cookie
from tests.config.test_websocket_origin import open_and_close

pytestmark = pytest.mark.django_db(transaction=True)

#: Så vägrar portalen en websocket: före accept, med kod 1000 (daphne svarar då 403).
REFUSED = (False, 1000)


def connect(path: str, session_key: str | None = None) -> tuple[bool, Any]:
    """Öppnar en websocket mot `path` från portalens eget ursprung; (ansluten, kod)."""
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver")]
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    return open_and_close(path, headers)


@pytest.mark.parametrize("path", ["/ws/nope/", "/ws/campaigns/abc/", "/personal/akut-sms/", "/", "/ws/campaigns/1/x/"])
def test_unknown_paths_are_refused_without_an_error(path: str, caplog: Any) -> None:
    """Okända sökvägar vägras före accept, och inget loggas som fel (ett fel blir ett mejl till IT)."""
    with caplog.at_level(logging.INFO):
        assert connect(path) == REFUSED
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_a_patient_link_as_websocket_is_refused_and_its_code_never_logged(staff_user: Any, caplog: Any) -> None:
    """En patients länk öppnad som websocket vägras, och svarskoden hamnar inte i loggen."""
    campaign = make_campaign(staff_user)
    code = campaign.recipients.first().code
    with caplog.at_level(logging.DEBUG):
        assert connect(f"/s/{code}") == REFUSED
    assert code not in caplog.text


def test_the_campaign_page_still_connects(staff_user: Any) -> None:
    """Rutten för okända sökvägar tar inte kampanjsidans plats."""
    campaign = make_campaign(staff_user)
    assert connect(f"/ws/campaigns/{campaign.pk}/", session_cookie(staff_user))[0] is True
