"""Portalens adminsajt: Djangos, där varje registrerad admin prövar listans urval innan en åtgärd körs.

Installeras som Djangos standardsajt (`config.apps.PortalAdminConfig`), så också adminerna som
django-axes, django-q2 och Djangos egna grupper registrerar går genom `register` här.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.db.models import Model

from common.admin import CheckedSelectionAdmin


class PortalAdminSite(admin.AdminSite):
    """Som Djangos adminsajt; varje admin-klass får `CheckedSelectionAdmin` först i arvet."""

    def register(
        self,
        model_or_iterable: type[Model] | Iterable[type[Model]],
        admin_class: type[admin.ModelAdmin] | None = None,
        **options: Any,
    ) -> None:
        """Registrerar som Django, med urvalskontrollen inlagd (en gång) i admin-klassen."""
        chosen = admin_class or admin.ModelAdmin
        if not issubclass(chosen, CheckedSelectionAdmin):
            chosen = type(chosen.__name__, (CheckedSelectionAdmin, chosen), {"__module__": chosen.__module__})
        super().register(model_or_iterable, chosen, **options)
