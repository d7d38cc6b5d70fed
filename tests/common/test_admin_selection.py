"""Åtgärder i admins listor med ett manipulerat urval: svenskt besked och listan igen, aldrig 500.

Django filtrerar på de markerade id:na utan att pröva dem; `_selected_action=abc` gav ValueError
(500 och ett felbrev till IT) för användare, kategorier, mallar, grupper, django-axes försök och
django-q2:s scheman och kö, och `%00` gav 500 i PostgreSQL även för django-q2:s jobb (textnycklar).
Testet går igenom varje registrerad admin och åtgärd som superanvändare (IT), också de som
kommer med andra paket: portalens adminsajt lägger in kontrollen i alla (config.admin_site).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import CharField, Model
from django.test import Client
from django.urls import reverse

from common.admin import UNREADABLE_SELECTION
from templates_app.models import Category, MessageTemplate

User = get_user_model()


def _admins_with_actions(client: Client) -> list[tuple[str, type[Model], str]]:
    """(listans adress, modellen, åtgärd) för varje registrerad admin och var och en av dess åtgärder."""
    request = client.get(reverse("admin:index")).wsgi_request
    found = []
    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        found += [(url, model, action) for action in model_admin.get_actions(request)]
    return found


def _unreadable_selections(model: type[Model]) -> list[list[str]]:
    """Urval som inte kan vara id:n i modellen: NUL alltid, för heltalsnycklar också text och decimaltal."""
    with_nul = [["\x00"], ["1", "a\x00"]]
    if isinstance(model._meta.pk, CharField):
        return with_nul  # django-q2:s jobb: textnycklar, där "abc" kan vara ett id
    return [*with_nul, ["abc"], ["1.5"], [""], ["1", "x"]]


def test_every_admin_action_refuses_an_unreadable_selection(superuser_client: Client) -> None:
    """Varje åtgärd med id:n som inte kan vara id:n: tillbaka till listan med beskedet, inget ändrat."""
    actions = _admins_with_actions(superuser_client)
    users, categories, templates = User.objects.count(), Category.objects.count(), MessageTemplate.objects.count()
    assert {url for url, _, _ in actions} >= {
        "/admin/auth/user/",
        "/admin/django_q/failure/",
        "/admin/axes/accessattempt/",
    }
    for url, model, action in actions:
        for selection in _unreadable_selections(model):
            response = superuser_client.post(url, {"action": action, "_selected_action": selection}, follow=True)
            assert response.status_code == 200, (url, action, selection)
            assert UNREADABLE_SELECTION in response.content.decode(), (url, action, selection)
    assert (User.objects.count(), Category.objects.count(), MessageTemplate.objects.count()) == (
        users,
        categories,
        templates,
    )


@pytest.mark.django_db
def test_a_readable_selection_still_reaches_the_action(admin_client_: Client, staff_user: Any) -> None:
    """Ett riktigt id går till Djangos åtgärd som förut: "Ta bort markerade" visar bekräftelsesidan."""
    response = admin_client_.post(
        reverse("admin:auth_user_changelist"), {"action": "delete_selected", "_selected_action": [str(staff_user.pk)]}
    )
    assert response.status_code == 200
    assert UNREADABLE_SELECTION not in response.content.decode()
    assert staff_user.username in response.content.decode()
    assert User.objects.filter(pk=staff_user.pk).exists()
