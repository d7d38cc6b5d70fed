"""Ändringar i Django admin hamnar i audit-loggen: vem, tillagd/ändrad/raderad och vad – aldrig fältens värden
eller patienters namn."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from audit.admin_changes import describe
from audit.models import Action, AuditEvent
from templates_app.models import Category, MessageTemplate

TEMPLATE_TEXT = "Hej! Om gipset: [LÄNK]"


def admin_changes() -> list[tuple[str, str, str]]:
    """Audit-loggens rader "Ändring i administrationen": (användare, status, orsak), äldst först."""
    events = AuditEvent.objects.filter(action=Action.ADMIN_CHANGE).order_by("id")
    return list(events.values_list("actor_username", "status", "reason"))


def template_form(category: Category, **changes: Any) -> dict[str, Any]:
    """Mallformulärets fält i admin."""
    form = {"category": category.pk, "title": "Gips", "text": TEMPLATE_TEXT, "link": "a.se/gips", "order": 5}
    form["active"] = "on"
    return {**form, **changes}


def test_template_added_changed_and_deleted_in_admin_are_in_the_audit_log(admin_client_: Client) -> None:
    """Administratören lägger till, ändrar och tar bort en mall: tre rader med namn, fält – aldrig texten."""
    category = Category.objects.get(name="Efter besök")
    added = admin_client_.post(reverse("admin:templates_app_messagetemplate_add"), template_form(category))
    assert added.status_code == 302
    template = MessageTemplate.objects.get(title="Gips")
    change_url = reverse("admin:templates_app_messagetemplate_change", args=[template.pk])
    changed = admin_client_.post(change_url, template_form(category, text="Hej! Om gipset igen: [LÄNK]"))
    assert changed.status_code == 302
    delete_url = reverse("admin:templates_app_messagetemplate_delete", args=[template.pk])
    assert admin_client_.post(delete_url, {"post": "yes"}).status_code == 302

    assert admin_changes() == [
        ("chef", "tillagd", 'SMS-mall "Efter besök – Gips"'),
        ("chef", "ändrad", 'SMS-mall "Efter besök – Gips": Ändrade Meddelandetext.'),
        ("chef", "raderad", 'SMS-mall "Efter besök – Gips"'),
    ]
    log_page = admin_client_.get(reverse("audit:log")).content.decode()
    assert "Ändring i administrationen" in log_page and "Ändrade Meddelandetext." in log_page
    stored = str(list(AuditEvent.objects.values()))
    assert "gipset" not in stored  # mallens text hamnar aldrig i loggen


def test_bulk_deletion_of_accounts_gives_one_row_per_account(admin_client_: Client, staff_user: Any) -> None:
    """ "Ta bort markerade" med två personalkonton: en rad per konto, med användarnamnet."""
    bertil = get_user_model().objects.create_user(username="bertil", password="x" * 20)
    response = admin_client_.post(
        reverse("admin:auth_user_changelist"),
        {"action": "delete_selected", "_selected_action": [staff_user.pk, bertil.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not get_user_model().objects.filter(username__in=["anna", "bertil"]).exists()
    assert sorted(admin_changes()) == [
        ("chef", "raderad", 'Användare "anna"'),
        ("chef", "raderad", 'Användare "bertil"'),
    ]


def test_unlocking_an_account_is_an_admin_change(admin_client_: Client, staff_user: Any) -> None:
    """Listans åtgärd "Lås upp inloggningen" blir en rad med vad åtgärden gjorde."""
    admin_client_.post(
        reverse("admin:auth_user_changelist"), {"action": "unlock_login", "_selected_action": [staff_user.pk]}
    )
    assert admin_changes() == [
        ("chef", "ändrad", 'Användare "anna": Inloggningen upplåst (spärr efter felaktiga inloggningar).')
    ]


def test_a_name_cut_into_a_number_gives_the_id_and_the_template_is_saved(admin_client_: Client) -> None:
    """En lång rubrik som efter avkortningen till orsakens 200 tecken slutar som ett nummer: id:t, ingen 500."""
    category = Category.objects.create(name="k" * 100)
    title = "y" * 73 + " 070-123 45 678"
    response = admin_client_.post(
        reverse("admin:templates_app_messagetemplate_add"), template_form(category, title=title)
    )
    assert response.status_code == 302
    template = MessageTemplate.objects.get(title=title)
    assert admin_changes() == [("chef", "tillagd", f"SMS-mall id {template.pk}")]


def changed(app_label: str, model: str, object_id: str, object_repr: str) -> str:
    """Loggens orsak för en ändrad rad i en modells historik (utan att spara något)."""
    content_type = ContentType.objects.get_by_natural_key(app_label, model)
    return describe(
        LogEntry(content_type=content_type, object_id=object_id, object_repr=object_repr, action_flag=CHANGE)
    )


def test_other_packages_models_have_swedish_names(db: Any) -> None:
    """django-q2:s schemalagda jobb och django-axes inloggningsförsök heter något på svenska i loggen."""
    assert changed("django_q", "schedule", "2", "Radera gamla kampanjer") == 'Schemalagt jobb "Radera gamla kampanjer"'
    assert changed("axes", "accessattempt", "1", "Attempted Access: 2026-12-04") == "Inloggningsförsök id 1"


def test_patient_data_and_numbers_never_name_the_object(db: Any) -> None:
    """Modeller med patientdata får bara sitt id; ett namn som liknar ett telefonnummer också."""
    assert changed("campaigns", "recipient", "7", "Lisa Larsson") == "Mottagare id 7"
    assert changed("templates_app", "messagetemplate", "3", "Ring 070-123 45 67") == "SMS-mall id 3"
