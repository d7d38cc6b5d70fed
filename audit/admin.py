"""Audit-loggen i Django admin: bara läsning, ingen kan lägga till, ändra eller ta bort."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Skrivskyddad vy av audit-loggen för administratörer."""

    list_display = (
        "created_at",
        "actor_username",
        "action",
        "status",
        "category",
        "template_title",
        "segments",
        "provider",
    )
    list_filter = ("action", "status", "created_at", "provider")
    search_fields = ("actor_username", "template_title", "category")
    date_hierarchy = "created_at"
    list_per_page = 100

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        """Alla fält är skrivskyddade."""
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Händelser skapas bara av portalen själv."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Loggen ändras aldrig."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Loggen raderas aldrig från admin."""
        return False
