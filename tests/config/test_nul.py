"""Begäranden med NUL-tecken (%00): en svensk felsida före databasen, aldrig 500.

PostgreSQL vägrar NUL i text; CI kör testerna också mot PostgreSQL, där de här gav 500:
- adressen: `/admin/django_q/failure/%00/change/` (django-q2:s jobb har textnycklar);
- frågesträngen: ett filter i admins listor, `/admin/smsportal/sendattempt/?status=%00`;
- ett huvud: en misslyckad inloggning med NUL i User-Agent eller Accept (django-axes sparar dem).
Adressen ger sidan för adresser som inte finns (404), frågesträngen och huvudet "Felaktig begäran" (400).
"""

from __future__ import annotations

from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("address", "status", "text"),
    [
        # I adressen: sidan för adresser som inte finns.
        ("/admin/django_q/failure/%00/change/", 404, "Sidan finns inte"),
        ("/admin/django_q/success/a%00b/history/", 404, "Sidan finns inte"),
        ("/admin/auth/user/%00/delete/", 404, "Sidan finns inte"),
        # I frågesträngen (ett filter i en lista): "Felaktig begäran".
        ("/admin/smsportal/sendattempt/?status=%00", 400, "Felaktig begäran"),
        ("/admin/audit/auditevent/?action__exact=a%00b", 400, "Felaktig begäran"),
        ("/logg/?action=%00", 400, "Felaktig begäran"),
    ],
)
def test_staff_address_with_nul_gets_a_swedish_error_page(
    admin_client_: Client, address: str, status: int, text: str
) -> None:
    """Administratören skriver (eller följer) en adress med %00: en svensk felsida, aldrig 500."""
    admin_client_.raise_request_exception = False
    response = admin_client_.get(address)
    assert response.status_code == status
    assert text in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_patient_address_with_nul_gets_the_unknown_link_page(client: Client, method: str) -> None:
    """En patientkod med %00 är en okänd kod som alla andra: samma sida, i patientlayouten."""
    response = getattr(client, method)("/s/abc%00def")
    assert response.status_code == 404
    assert "Länken gäller inte längre" in response.content.decode()


@pytest.mark.django_db
def test_ordinary_addresses_are_untouched(client: Client) -> None:
    """Adresser utan NUL går som förut (här inloggningen och en okänd patientkod)."""
    assert client.get("/konto/logga-in/").status_code == 200
    assert client.get("/s/OkandKod12345678").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["HTTP_USER_AGENT", "HTTP_ACCEPT"])
def test_failed_login_with_nul_in_a_header_gets_the_swedish_400(client: Client, staff_user: Any, header: str) -> None:
    """Fel lösenord från en klient med NUL i ett huvud: 400 på svenska, och inget försök sparas.

    django-axes sparar User-Agent och Accept för misslyckade inloggningar; det gav 500 i PostgreSQL.
    """
    client.raise_request_exception = False
    data = {"username": staff_user.username, "password": "fel-lösenord"}
    response = client.post("/konto/logga-in/", data, **{header: "Mozilla\x00/5.0"})
    assert response.status_code == 400
    assert "Felaktig begäran" in response.content.decode()
    assert not AccessAttempt.objects.exists()


@pytest.mark.django_db
def test_patient_query_with_nul_gets_the_patient_layout(client: Client) -> None:
    """En patientlänk med %00 i frågesträngen: 400 i patientlayouten, utan personalens meny."""
    response = client.get("/s/OkandKod12345678?utm=%00")
    page = response.content.decode()
    assert response.status_code == 400
    assert "Felaktig begäran" in page
    assert "patient.css" in page and "bootstrap" not in page.lower()


@pytest.mark.django_db
def test_queries_and_headers_without_nul_are_untouched(admin_client_: Client) -> None:
    """Ett kodat procenttecken (`%2500` är texten "%00") och vanliga huvuden går som förut."""
    assert admin_client_.get("/admin/smsportal/sendattempt/?status=%2500").status_code == 200
    assert admin_client_.get("/logg/?action=sms_sent", HTTP_USER_AGENT="Mozilla/5.0").status_code == 200
