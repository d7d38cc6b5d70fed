"""Leverantörerna byggs en gång per process och tråd, och anslutningen till leverantören återanvänds.

Låtsasservrarna talar HTTP/1.1 med keep-alive som de riktiga leverantörerna och noterar
klientens port per begäran: samma port betyder samma TCP-anslutning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import override_settings

from smsportal.backends.base import IDLE_CONNECTION_SECONDS
from smsportal.sending import get_backend, send_sms
from tests.fakes.elks46_server import API_PASSWORD, API_USERNAME, FakeElks46
from tests.fakes.server import FakeProvider
from tests.fakes.sinch_server import API_TOKEN, SERVICE_PLAN_ID, FakeSinch
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

TO = "+46701234567"
TEXT = "Hej! Din tid är bekräftad. /Södermalms Ortopedi"
TOKEN = "webhook-token-som-bara-testerna-kanner-0123456789"


def elks46(settings: Any) -> FakeProvider:
    """En låtsas-46elks och inställningar som pekar dit."""
    server = FakeElks46().start()
    settings.ELKS46_API_USERNAME, settings.ELKS46_API_PASSWORD = API_USERNAME, API_PASSWORD
    settings.ELKS46_BASE_URL = server.base_url
    return server


def twilio(settings: Any) -> FakeProvider:
    """En låtsas-Twilio och inställningar som pekar dit."""
    server = FakeTwilio().start()
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT_SID, AUTH_TOKEN
    settings.TWILIO_BASE_URL = server.url
    return server


def sinch(settings: Any) -> FakeProvider:
    """En låtsas-Sinch och inställningar som pekar dit."""
    server = FakeSinch().start()
    settings.SINCH_SERVICE_PLAN_ID, settings.SINCH_API_TOKEN = SERVICE_PLAN_ID, API_TOKEN
    settings.SINCH_REGION, settings.SINCH_BASE_URL, settings.SINCH_WEBHOOK_SECRET = "eu", server.url, ""
    return server


PROVIDERS: dict[str, Callable[[Any], FakeProvider]] = {"elks46": elks46, "twilio": twilio, "sinch": sinch}


@pytest.fixture(params=sorted(PROVIDERS))
def provider(request: pytest.FixtureRequest, settings: Any) -> Iterator[tuple[str, FakeProvider]]:
    """Var och en av de riktiga leverantörerna, mot sin låtsasserver."""
    name = request.param
    settings.SMS_PROVIDERS = [name]
    settings.SMS_WEBHOOK_TOKEN = TOKEN
    settings.SMS_TIMEOUT_SECONDS = 5.0
    server = PROVIDERS[name](settings)
    yield name, server
    server.stop()


def ports(server: FakeProvider) -> list[int]:
    """Klientportarna för serverns begäranden, i ordning."""
    return [request.client_port for request in server.requests]


@pytest.mark.django_db
def test_backend_is_built_once_and_reuses_its_connection(provider: tuple[str, FakeProvider]) -> None:
    """Tre SMS i följd: samma backend-objekt och en enda TCP-anslutning till leverantören."""
    name, server = provider
    first = get_backend(name)
    for _ in range(3):
        send_sms(TO, TEXT)
    assert get_backend(name) is first
    assert len(server.requests) == 3
    assert len(set(ports(server))) == 1


@pytest.mark.django_db
def test_connection_idle_too_long_is_replaced(provider: tuple[str, FakeProvider]) -> None:
    """En anslutning som legat oanvänd längre än gränsen används inte: en brandvägg kan ha glömt
    den, och ett SMS på den skulle vänta ut tidsgränsen och bli osäkert."""
    name, server = provider
    send_sms(TO, TEXT)
    send_sms(TO, TEXT)
    get_backend(name).last_used -= IDLE_CONNECTION_SECONDS + 1
    send_sms(TO, TEXT)
    first, second, third = ports(server)
    assert first == second != third


@pytest.mark.django_db
def test_changed_settings_build_a_new_backend(provider: tuple[str, FakeProvider]) -> None:
    """Ändras inställningarna (här tidsgränsen) byggs leverantören om med de nya."""
    name, _ = provider
    before = get_backend(name)
    with override_settings(SMS_TIMEOUT_SECONDS=3.0):
        changed = get_backend(name)
        assert changed is not before
        assert get_backend(name) is changed
    assert get_backend(name) is not changed


@pytest.mark.django_db
def test_stopped_provider_is_not_reached_over_an_old_connection(provider: tuple[str, FakeProvider]) -> None:
    """Leverantören går ner mellan två SMS: den öppna anslutningen ger inget falskt "skickat"
    och inget "osäkert", utan samma tillfälliga fel som en leverantör som inte går att nå."""
    from smsportal.backends.base import SmsError

    _, server = provider
    send_sms(TO, TEXT)
    server.stop()
    with pytest.raises(SmsError) as caught:
        send_sms(TO, TEXT)
    assert (caught.value.permanent, caught.value.ambiguous) == (False, False)
    assert len(server.requests) == 1
