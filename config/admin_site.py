"""Portalens adminsajt: Djangos, där varje registrerad admin prövar listans urval innan en åtgärd körs
och skriver sina ändringar i audit-loggen (audit.admin_changes).

Installeras som Djangos standardsajt (`config.apps.PortalAdminConfig`), så också adminerna som
django-axes, django-q2 och Djangos egna grupper registrerar går genom `register` här.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.db.models import Model

from audit.admin_changes import AuditedAdmin
from common.admin import CheckedSelectionAdmin

#: Det som varje registrerad admin får först i arvet.
PORTAL_MIXINS = (CheckedSelectionAdmin, AuditedAdmin)


class PortalAdminSite(admin.AdminSite):
    """Som Djangos adminsajt; varje admin-klass får `PORTAL_MIXINS` först i arvet."""

    def register(
        self,
        model_or_iterable: type[Model] | Iterable[type[Model]],
        admin_class: type[admin.ModelAdmin] | None = None,
        **options: Any,
    ) -> None:
        """Registrerar som Django, med urvalskontrollen och audit-loggen inlagda (en gång) i admin-klassen."""
        chosen = admin_class or admin.ModelAdmin
        missing = tuple(mixin for mixin in PORTAL_MIXINS if not issubclass(chosen, mixin))
        if missing:
            chosen = type(chosen.__name__, (*missing, chosen), {"__module__": chosen.__module__})
        super().register(model_or_iterable, chosen, **options)
