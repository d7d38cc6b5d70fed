"""En skrivskyddad vy i Django admin, för loggar och register som bara portalen själv skriver."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Bara läsning: ingen i admin kan lägga till, ändra eller ta bort en rad."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        """Alla fält är skrivskyddade."""
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Raderna skapas bara av portalen själv."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Raderna ändras aldrig från admin."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Raderna raderas bara när lagringstiden gått ut, aldrig från admin."""
        return False
