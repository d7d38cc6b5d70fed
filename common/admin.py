"""Django admin: skrivskyddade vyer för loggar och register, och listor som tål manipulerade adresser."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

#: Beskedet när urvalet i en lista har id:n som inte kan vara id:n.
UNREADABLE_SELECTION = "Urvalet kunde inte läsas och ingenting har ändrats. Markera raderna igen."


class CheckedSelectionAdmin(admin.ModelAdmin):
    """Åtgärder i listan ("Ta bort markerade" m.fl.) med ett urval som inte är id:n: svenskt besked, inte 500;
    och datumnavigering med datum utanför kalendern: Djangos besked om felaktiga filter, inte 500.

    Django filtrerar på de markerade id:na utan att pröva dem, så ett manipulerat formulär
    (`_selected_action=abc`, eller `%00`, som PostgreSQL vägrar) gav ett fel och ett felbrev till
    IT. Här prövas varje id mot modellens primärnyckel först; ett oläsbart urval ger beskedet och
    listan igen. Portalens adminsajt (config.admin_site) lägger in den i varje registrerad admin.
    """

    def response_action(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        """Prövar de markerade id:na innan Djangos åtgärd körs."""
        if not all(self._readable_id(value) for value in request.POST.getlist(ACTION_CHECKBOX_NAME)):
            self.message_user(request, UNREADABLE_SELECTION, messages.WARNING)
            return None
        return super().response_action(request, queryset)

    def get_changelist_instance(self, request: HttpRequest) -> ChangeList:
        """Listan, men ett datum utanför kalendern i datumnavigeringen ger Djangos "?e=1", inte 500.

        Django fångar ValueError men inte OverflowError i datumnavigeringen (`created_at__year=`
        med 20 siffror, eller dagen efter 9999-12-31), så sådana adresser gav ett fel och ett
        felbrev till IT. Listan visas då igen med Djangos besked om felaktiga filter.
        """
        try:
            return super().get_changelist_instance(request)
        except (OverflowError, ValueError) as error:
            raise IncorrectLookupParameters(error) from error

    def _readable_id(self, value: str) -> bool:
        """Sant om värdet kan vara en primärnyckel i modellen (och saknar NUL-tecken)."""
        if "\x00" in value:
            return False
        try:
            self.model._meta.pk.to_python(value)
        except ValidationError:
            return False
        return True


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
