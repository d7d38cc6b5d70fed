"""Adresser med NUL-tecken (%00): den vanliga svenska sidan för adresser som inte finns, aldrig 500.

PostgreSQL vägrar NUL i text. I Django admin för django-q2:s jobb (textnycklar) gav
`/admin/django_q/failure/%00/change/` annars 500; CI kör testerna också mot PostgreSQL.
"""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/admin/django_q/failure/%00/change/", "/admin/django_q/success/a%00b/history/", "/admin/auth/user/%00/delete/"],
)
def test_admin_object_with_nul_gets_the_swedish_404(admin_client_: Client, path: str) -> None:
    """Administratören skriver (eller följer) en adress med %00: "Sidan finns inte" på svenska."""
    admin_client_.raise_request_exception = False
    response = admin_client_.get(path)
    assert response.status_code == 404
    assert "Sidan finns inte" in response.content.decode()


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
