"""Klientens adress (common.client_ip): alltid en giltig IP-adress, aldrig ett serverfel.

Adressen är nyckeln för gränsen per IP (django-ratelimit) och spärrarna (django-axes). Ett
X-Forwarded-For som inte går att tolka, eller ingen adress alls, ska ge en delad nyckel för
okänd klient, inte ett 500 med traceback.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from pytest_django.fixtures import Settings

from common.client_ip import UNKNOWN_ADDRESS, client_ip

UNKNOWN_CODE_PATH = "/s/OkandKod12345678"


@pytest.fixture(autouse=True)
def empty_rate_limit() -> None:
    """Gränsen per IP räknas i cachen: varje test börjar från noll."""
    cache.clear()


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "203.0.113.5", "198.51.100.1", "203.0.113.5"),
        (1, "127.0.0.1", "10.0.0.9, 198.51.100.1", "198.51.100.1"),
        (2, "127.0.0.1", "10.0.0.9, 198.51.100.1, 127.0.0.1", "198.51.100.1"),
        (1, "127.0.0.1", "2001:db8::7", "2001:db8::7"),
        # Färre poster än betrodda proxyer: proxyn lade inte till någon, REMOTE_ADDR gäller.
        (2, "203.0.113.5", "198.51.100.1", "203.0.113.5"),
        (1, "127.0.0.1", "hej", UNKNOWN_ADDRESS),
        (1, "127.0.0.1", "198.51.100.1:443", UNKNOWN_ADDRESS),
        (1, "127.0.0.1", "999.1.1.1", UNKNOWN_ADDRESS),
        (0, "", "", UNKNOWN_ADDRESS),
    ],
)
def test_address_is_always_a_valid_ip(
    settings: Settings, proxies: int, remote: str, forwarded: str, expected: str
) -> None:
    """Den n:te från slutet bakom n proxyer, annars REMOTE_ADDR; skräp eller ingenting ger okänd klient."""
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("forwarded", ["hej", "999.1.1.1", "198.51.100.1:443"])
def test_patient_page_with_unreadable_forwarded_address_is_not_a_server_error(
    settings: Settings, forwarded: str
) -> None:
    """Bakom en felräknad proxykedja: patientsidan svarar som vanligt (här okänd kod), inget 500."""
    settings.TRUSTED_PROXY_COUNT = 1
    response = Client(raise_request_exception=False).get(UNKNOWN_CODE_PATH, HTTP_X_FORWARDED_FOR=forwarded)
    assert response.status_code == 404
    assert "Länken gäller inte längre" in response.content.decode()


@pytest.mark.django_db
def test_patient_page_without_client_address_is_not_a_server_error() -> None:
    """daphne på en Unix-socket utan proxy ger ingen adress: sidan svarar ändå."""
    response = Client(raise_request_exception=False, REMOTE_ADDR="").get(UNKNOWN_CODE_PATH)
    assert response.status_code == 404
    assert "Länken gäller inte längre" in response.content.decode()


@pytest.mark.django_db
def test_unknown_clients_share_one_limit(settings: Settings) -> None:
    """Alla utan läsbar adress delar gränsen (60/min): den 61:a får 429, en riktig adress påverkas inte."""
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client()
    statuses = [client.get(UNKNOWN_CODE_PATH, HTTP_X_FORWARDED_FOR=f"skräp-{n}").status_code for n in range(61)]
    assert statuses[:60] == [404] * 60 and statuses[60] == 429
    assert client.get(UNKNOWN_CODE_PATH, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 404


@pytest.mark.django_db
def test_failed_login_with_unreadable_forwarded_address_is_not_a_server_error(settings: Settings) -> None:
    """django-axes sparar adressen vid ett fel lösenord (i PostgreSQL en kolumn av typen inet): skräp i
    X-Forwarded-For ger det vanliga svenska felet, inget 500."""
    settings.TRUSTED_PROXY_COUNT = 1
    response = Client(raise_request_exception=False).post(
        "/konto/logga-in/", {"username": "okand", "password": "fel-lösenord"}, HTTP_X_FORWARDED_FOR="hej"
    )
    assert response.status_code == 200
    assert "Ange ett korrekt användarnamn och lösenord" in response.content.decode()
