"""Avböjda förfrågningar (opt-out) i Django admin: bara datum i listan, borttagning genom att skriva numret.

Hashen visas aldrig. När en patient ringer och vill få förfrågningar igen skriver administratören
numret; det hashas direkt med samma HMAC som mottagarnas (campaigns.optout.remove_opt_out) och
sparas eller loggas aldrig. Audit får bara händelsen.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from campaigns.models import OptOut
from campaigns.optout import remove_opt_out
from smsportal.phone import InvalidPhoneNumber, parse_swedish_mobile


class RemoveOptOutForm(forms.Form):
    """Numret som patienten uppgav i telefon (tolkas som svenskt mobilnummer, sparas aldrig)."""

    phone = forms.CharField(
        label="Patientens mobilnummer",
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off", "placeholder": "t.ex. 070-123 45 67"}),
        error_messages={"required": "Skriv patientens mobilnummer."},
    )

    def clean_phone(self) -> str:
        """Numret som E.164; ett ogiltigt nummer ger ett svenskt fel."""
        try:
            return parse_swedish_mobile(self.cleaned_data["phone"])
        except InvalidPhoneNumber:
            raise forms.ValidationError("Ange ett svenskt mobilnummer, t.ex. 070-123 45 67.") from None


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    """Listan visar bara datumen; raderna tas bort en i taget genom att skriva numret."""

    list_display = ("created_on",)
    list_display_links = None
    date_hierarchy = "created_on"
    fields = ("created_on",)
    change_list_template = "admin/campaigns/optout/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Avböjanden skapas bara av patienten själv."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Ett avböjande ändras aldrig."""
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """Ingen massradering: en rad går inte att knyta till en patient utan numret."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Ingen radering per rad-id (den går inte att knyta till patienten och loggas inte): till sidan där numret skrivs."""
        return HttpResponseRedirect(reverse("admin:campaigns_optout_remove"))

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """Listan med länken "Ta bort avböjande" för den som får ta bort."""
        context = {**(extra_context or {}), "can_remove_opt_out": self.has_delete_permission(request)}
        return super().changelist_view(request, extra_context=context)

    def get_urls(self) -> list[URLPattern]:
        """Sidan "Ta bort avböjande" före adminens egna adresser."""
        remove = path("ta-bort/", self.admin_site.admin_view(self.remove_view), name="campaigns_optout_remove")
        return [remove, *super().get_urls()]

    def remove_view(self, request: HttpRequest) -> HttpResponse:
        """Administratören skriver numret; finns ett avböjande för det tas det bort (audit utan nummer)."""
        if not self.has_delete_permission(request):
            raise PermissionDenied
        form = RemoveOptOutForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            if remove_opt_out(form.cleaned_data["phone"], actor=request.user):  # type: ignore[arg-type]
                messages.success(request, "Avböjandet är borttaget: numret kan få förfrågningar om lediga tider igen.")
            else:
                messages.info(request, "Numret fanns inte bland de avböjda. Ingenting ändrades.")
            return HttpResponseRedirect(reverse("admin:campaigns_optout_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Ta bort avböjande (patienten vill få förfrågningar igen)",
            "form": form,
        }
        return TemplateResponse(request, "admin/campaigns/optout/remove.html", context)
