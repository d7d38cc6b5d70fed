"""SMS-registret i Django admin: bara läsning, med utfall och leveransstatus per SMS.

Här ser administratören om ett SMS levererades (leverantörens rapport); audit-loggen visar
vem som gjorde vad. Registret har aldrig nummer eller text.
"""

from __future__ import annotations

from django.contrib import admin

from common.admin import ReadOnlyModelAdmin
from smsportal.models import SendAttempt


@admin.register(SendAttempt)
class SendAttemptAdmin(ReadOnlyModelAdmin):
    """Skrivskyddad vy av SMS-registret."""

    list_display = (
        "created_at",
        "purpose",
        "actor_username",
        "category",
        "template_title",
        "status",
        "provider",
        "segments",
        "delivery_label",
    )
    list_filter = ("purpose", "status", "delivery_status", "provider", "created_at")
    search_fields = ("actor_username", "template_title", "category")
    date_hierarchy = "created_at"
    list_per_page = 100

    @admin.display(description="leverans")
    def delivery_label(self, attempt: SendAttempt) -> str:
        """Levererat, ej levererat eller väntar för ett skickat SMS; tomt för övriga."""
        return attempt.delivery
