"""Audit-loggen och åtkomstloggen är append-only: ingen rad ändras, varken en och en eller i klump."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from audit.models import AccessEvent, AccessKind, Action, AuditEvent
from audit.services import record, record_access

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [AuditEvent, AccessEvent])
def test_queryset_update_is_refused(model: Any, staff_user: Any) -> None:
    """`QuerySet.update()` och `bulk_update()` vägras med ett svenskt besked; raden är orörd."""
    record(Action.LOGIN, actor=staff_user, status="ok")
    record_access(AccessKind.AUDIT_LOG, user=staff_user)
    with pytest.raises(ValueError, match="ändras inte i efterhand"):
        model.objects.filter(actor=staff_user).update(actor_username="någon annan")
    with pytest.raises(ValueError, match="ändras inte i efterhand"):
        model.objects.bulk_update(list(model.objects.all()), ["actor_username"])
    assert list(model.objects.values_list("actor_username", flat=True)) == [staff_user.get_username()]


def test_saving_an_existing_row_is_refused(staff_user: Any) -> None:
    """En hämtad rad kan inte sparas om med ändrad status."""
    event = record(Action.SMS_SENT, actor=staff_user, status="skickat")
    event.status = "misslyckat"
    with pytest.raises(ValueError, match="ändras inte i efterhand"):
        event.save()
    assert AuditEvent.objects.get().status == "skickat"


def test_deleting_a_user_keeps_the_rows_with_the_username(staff_user: Any) -> None:
    """Ett raderat konto lämnar raderna kvar (användarnamnet sparat); bara kopplingen till kontot tas bort."""
    record(Action.LOGIN, actor=staff_user, status="ok")
    record_access(AccessKind.AUDIT_LOG, user=staff_user)
    username = staff_user.get_username()
    get_user_model().objects.filter(pk=staff_user.pk).delete()
    assert list(AuditEvent.objects.values_list("actor", "actor_username")) == [(None, username)]
    assert list(AccessEvent.objects.values_list("actor", "actor_username")) == [(None, username)]


def test_an_sms_is_one_audit_row_written_once(staff_client: Any, sms_outbox: list[Any]) -> None:
    """Ett skickat envägs-SMS ger exakt en audit-rad med sitt slutliga utfall (ingen "skickas" som uppdateras)."""
    from templates_app.models import MessageTemplate

    template = MessageTemplate.objects.get(title="Receptpolicy")
    staff_client.post("/", {"template": template.pk, "phone": "0701234567", "body": template.body()})
    assert list(AuditEvent.objects.filter(action__startswith="sms_").values_list("action", "status")) == [
        (Action.SMS_SENT, "skickat")
    ]
