"""Gemensamt för testerna av det som delas mellan apparna (adminlistorna)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client


@pytest.fixture
def superuser_client(db: Any) -> Client:
    """En testklient inloggad som superanvändare (IT): ser alla adminer, också andra pakets."""
    client = Client(raise_request_exception=False)
    client.force_login(get_user_model().objects.create_superuser("it", "it@example.com", "It-Lösenord-12345!"))
    return client
