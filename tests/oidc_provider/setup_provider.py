"""Fyller testleverantörens databas: en klient (portalen) och två användare.

Körs som `python -m tests.oidc_provider.setup_provider` med DJANGO_SETTINGS_MODULE satt till
leverantörens inställningar, efter `migrate`. Portalens återkopplingsadress och klientens
hemlighet kommer från miljön (OIDC_TEST_REDIRECT_URI, OIDC_TEST_CLIENT_SECRET).
"""

from __future__ import annotations

import os

import django

STAFF_GROUP = "sms-personal"
PASSWORD = "leverantorens-losenord-42"
CLIENT_ID = "sms-portalen"


def main() -> None:
    """Skapar personalgruppen, en användare med och en utan den, och portalens klient."""
    django.setup()
    from django.contrib.auth.models import Group, User
    from oauth2_provider.models import Application

    group = Group.objects.create(name=STAFF_GROUP)
    staff = User.objects.create_user("klara", password=PASSWORD, first_name="Klara", last_name="Kirurg")
    staff.groups.add(group)
    User.objects.create_user("olle", password=PASSWORD, first_name="Olle", last_name="Obehörig")
    Application.objects.create(
        name="SMS-portalen",
        client_id=CLIENT_ID,
        client_secret=os.environ["OIDC_TEST_CLIENT_SECRET"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=os.environ["OIDC_TEST_REDIRECT_URI"],
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )


if __name__ == "__main__":
    main()
