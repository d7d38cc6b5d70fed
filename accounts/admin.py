"""Användare i Django admin: administratörer hanterar personal men kan aldrig göra sig till superanvändare.

De kan också nollställa en persons tvåstegsverifiering (borttappad telefon, slut på
reservkoder); personen aktiverar då en ny app vid nästa inloggning.
"""

from __future__ import annotations

from typing import Any

from axes.models import AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import lockout, mfa
from audit.models import Action
from audit.services import record
from common.users import signed_in_user

User = get_user_model()
#: Djangos kryssruta is_staff ("Personalstatus") i användarformuläret: i portalen betyder den administratör.
STAFF_FLAG_LABEL = "Administratör (får logga in i administrationen)"
STAFF_FLAG_HELP = (
    "Bara för den som ska sköta mallar, användare och audit-loggen, tillsammans med gruppen "
    "Administratörer. Receptionen och annan personal loggar in i portalen utan den."
)


class AdministratorFilter(admin.BooleanFieldListFilter):
    """Djangos filter för is_staff, med rubriken "Administratör" i stället för "personalstatus"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Som Djangos, med portalens rubrik."""
        super().__init__(*args, **kwargs)
        self.title = "administratör"


class PortalUserAdmin(UserAdmin):
    """Som Djangos användaradmin, men superanvändare och enskilda rättigheter är bara för superanvändare."""

    # Djangos kolumner (UserAdmin.list_display) och om kontot har en app; is_staff som "Administratör".
    list_display = ("username", "email", "first_name", "last_name", "is_administrator", "has_second_factor")
    # Djangos filter (UserAdmin.list_filter), med is_staff under rubriken "administratör".
    list_filter = (("is_staff", AdministratorFilter), "is_superuser", "is_active", "groups")
    actions = ["reset_second_factor", "unlock_login"]

    @admin.display(description="Administratör", boolean=True, ordering="is_staff")
    def is_administrator(self, obj: Any) -> bool:
        """Djangos is_staff, med det namn den har i portalen (formulärets STAFF_FLAG_LABEL)."""
        return bool(obj.is_staff)

    @admin.display(description="Tvåstegsverifiering", boolean=True)
    def has_second_factor(self, obj: Any) -> bool:
        """Sant om kontot har en aktiverad autentiseringsapp."""
        return mfa.confirmed_totp(obj) is not None

    @admin.action(description="Nollställ tvåstegsverifiering", permissions=["change"])
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Tar bort de valda kontonas app och reservkoder; varje nollställning loggas (vem, vems)."""
        names = []
        for user in queryset:
            mfa.reset_devices(user)
            # Vems: i orsaken (syns i loggen /logg/ och dess CSV) och i data.
            record(
                Action.MFA_RESET,
                actor=signed_in_user(request),
                status="ok",
                reason=f"kontot {user.get_username()}",
                data={"konto": user.get_username()},
            )
            names.append(user.get_username())
        self.message_user(
            request,
            f"Tvåstegsverifieringen är nollställd för {', '.join(names)}. En ny app aktiveras vid nästa inloggning.",
            messages.SUCCESS,
        )

    @admin.action(description="Lås upp inloggningen", permissions=["change"])
    def unlock_login(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Tar bort spärrarna efter felaktiga inloggningar för de valda kontona, från alla adresser
        (accounts.lockout); upplåsningen syns i kontots historik."""
        names = []
        for user in queryset:
            lockout.unlock(user.get_username())
            self.log_change(request, user, "Inloggningen upplåst (spärr efter felaktiga inloggningar).")
            names.append(user.get_username())
        self.message_user(request, f"Inloggningen är upplåst för {', '.join(names)}.", messages.SUCCESS)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """Djangos "Personalstatus" heter här vad den betyder i portalen: all personal kan logga in i
        portalen utan den; den ger inloggning i administrationen (rättigheterna kommer från gruppen)."""
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "is_staff" and field is not None:
            field.label = STAFF_FLAG_LABEL
            field.help_text = STAFF_FLAG_HELP
        return field

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
# Åtkomstloggen är avstängd (inloggningar loggas i audit-appen); felloggen är kortlivad och
# räknas bara för spärren per konto (accounts.lockout, upplåsning under Användare): dölj båda.
# TOTP-enheterna (med hemliga nycklar) hanteras bara genom nollställningen ovan.
for model in (AccessLog, AccessFailureLog, TOTPDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
