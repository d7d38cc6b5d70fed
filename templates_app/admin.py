"""Mallar och kategorier i Django admin, med förhandsgranskning av exakt SMS och antal delar."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from common.smstext import analyse
from templates_app.models import Category, MessageTemplate


def describe_segments(text: str) -> str:
    """Kort svensk beskrivning: tecken, kodning och antal SMS-delar."""
    info = analyse(text)
    parts = "1 SMS-del" if info.segments == 1 else f"{info.segments} SMS-delar"
    return f"{info.characters} tecken, {info.encoding}, {parts}"


class MessageTemplateInline(admin.TabularInline):
    """Kategorins mallar, direkt på kategorisidan (grupperat per kategori)."""

    model = MessageTemplate
    fields = ("title", "active", "order", "segments")
    readonly_fields = ("segments",)
    extra = 0
    show_change_link = True

    @admin.display(description="SMS-delar")
    def segments(self, obj: MessageTemplate) -> str:
        """Antal SMS-delar för mallens färdiga text."""
        return describe_segments(obj.sms_text()) if obj.pk else "–"


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """Kategorier med sina mallar."""

    list_display = ("name", "order", "template_count")
    list_editable = ("order",)
    inlines = [MessageTemplateInline]

    @admin.display(description="antal mallar")
    def template_count(self, obj: Category) -> int:
        """Antal mallar i kategorin."""
        return obj.templates.count()


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    """SMS-mallarna, sorterade och filtrerade per kategori."""

    list_display = ("title", "category", "active", "segments", "order")
    list_filter = ("category", "active")
    list_editable = ("active", "order")
    list_select_related = ("category",)
    ordering = ("category__order", "category__name", "order", "title")
    search_fields = ("title", "text")
    fields = ("category", "title", "text", "link", "active", "order", "admin_note", "preview")
    readonly_fields = ("preview",)

    class Media:
        """Räknaren uppdaterar förhandsgranskningen medan administratören skriver."""

        js = ("js/smstext.js", "js/template-admin.js")
        css = {"all": ("css/template-admin.css",)}

    @admin.display(description="SMS-delar")
    def segments(self, obj: MessageTemplate) -> str:
        """Antal delar för mallens färdiga text."""
        return describe_segments(obj.sms_text())

    @admin.display(description="förhandsgranskning (exakt SMS)")
    def preview(self, obj: MessageTemplate | None) -> str:
        """Exakt den text som skickas, med signatur, och dess storlek."""
        text = obj.sms_text() if obj and obj.pk else ""
        return format_html(
            '<pre class="sms-preview" data-sms-preview data-signature="{}">{}</pre>'
            '<div class="sms-preview-count" data-sms-preview-count>{}</div>',
            _signature(),
            text,
            describe_segments(text) if text else "Skriv text och länk ovan: här visas exakt det SMS som skickas.",
        )

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """Nya mallar hamnar sist i sin kategori."""
        return {"order": 100, **super().get_changeform_initial_data(request)}


def _signature() -> str:
    """Signaturen som läggs sist i varje SMS (inställningen SMS_SIGNATURE)."""
    from django.conf import settings

    return settings.SMS_SIGNATURE
