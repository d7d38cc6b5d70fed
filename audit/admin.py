"""Audit-loggen i Django admin: bara läsning, ingen kan lägga till, ändra eller ta bort.

Varje visning skrivs i åtkomstloggen, som på audit-sidan.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from audit.models import AccessKind, AuditEvent
from audit.services import record_access
from common.admin import ReadOnlyModelAdmin
from common.users import signed_in_user


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
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

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """Listan över händelser; visningen skrivs i åtkomstloggen."""
        self._record_view(request)
        return super().changelist_view(request, extra_context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """En enskild händelse; visningen skrivs i åtkomstloggen."""
        self._record_view(request)
        return super().change_view(request, object_id, form_url, extra_context)

    def _record_view(self, request: HttpRequest) -> None:
        """Skriver visningen i åtkomstloggen, bara för den som får se loggen."""
        if self.has_view_permission(request):
            record_access(AccessKind.AUDIT_ADMIN, user=signed_in_user(request))
