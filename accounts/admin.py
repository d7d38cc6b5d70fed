"""Användare i Django admin: administratörer hanterar personal men kan aldrig göra sig till superanvändare."""

from __future__ import annotations

from typing import Any

from axes.models import AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

User = get_user_model()


class PortalUserAdmin(UserAdmin):
    """Som Djangos användaradmin, men superanvändare och enskilda rättigheter är bara för superanvändare."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        """Andra än superanvändare kan inte ändra superanvändarflaggan eller enskilda rättigheter."""
        fields = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return fields
        return fields + ("is_superuser", "user_permissions")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Superanvändare syns och ändras bara av superanvändare (t.ex. deras lösenord)."""
        users = super().get_queryset(request)
        return users if request.user.is_superuser else users.filter(is_superuser=False)


admin.site.unregister(User)
admin.site.register(User, PortalUserAdmin)
# Åtkomstloggarna är avstängda (inloggningar loggas i audit-appen); dölj deras tomma listor.
for model in (AccessLog, AccessFailureLog):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
