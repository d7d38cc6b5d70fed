"""Mallar och kategorier i Django admin, med förhandsgranskning av exakt SMS och antal delar."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest
from django.utils.html import format_html

from common.smstext import analyse
from templates_app.models import Category, MessageTemplate


def describe_segments(text: str) -> str:
    """Kort svensk beskrivning: tecken, kodning och antal SMS-delar."""
    info = analyse(text)
    parts = "1 SMS-del" if info.segments == 1 else f"{info.segments} SMS-delar"
    return f"{info.characters} tecken, {info.encoding}, {parts}"


class MessageTemplateForm(forms.ModelForm):
    """Mallformuläret, också i listan och på kategorisidan, där bara några kolumner finns.

    Mallens kontroll (`MessageTemplate.clean`) kan gälla ett fält som raden inte har, t.ex. texten
    när en mall med XXX kryssas i som aktiv i listan. Django kastar då ValueError (felsidan 500);
    här visas felet i stället för hela raden, och inget sparas.
    """

    def add_error(self, field: str | None, error: Any) -> None:
        """Som Djangos, men ett fel på ett fält som formuläret saknar blir ett fel för hela raden."""
        if field is None:
            error = self._absent_fields_to_row(error)
        super().add_error(field, error)

    def _absent_fields_to_row(self, error: Any) -> Any:
        """Felen per fält, med fält som formuläret saknar flyttade till raden (NON_FIELD_ERRORS)."""
        details = error if isinstance(error, dict) else getattr(error, "error_dict", None)
        if details is None:
            return error
        moved: dict[str, list[Any]] = {}
        for name, errors in details.items():
            key = name if name == NON_FIELD_ERRORS or name in self.fields else NON_FIELD_ERRORS
            moved.setdefault(key, []).extend(errors if isinstance(errors, list) else [errors])
        return ValidationError(moved)


class MessageTemplateInline(admin.TabularInline):
    """Kategorins mallar, direkt på kategorisidan (grupperat per kategori)."""

    model = MessageTemplate
    form = MessageTemplateForm
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

    form = MessageTemplateForm
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

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> type[forms.ModelForm]:
        """Listans rader med mallformuläret (fel på fält som listan saknar visas för raden)."""
        return super().get_changelist_form(request, form=MessageTemplateForm, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """Nya mallar hamnar sist i sin kategori."""
        return {"order": 100, **super().get_changeform_initial_data(request)}


def _signature() -> str:
    """Signaturen som läggs sist i varje SMS (inställningen SMS_SIGNATURE)."""
    from django.conf import settings

    return settings.SMS_SIGNATURE
