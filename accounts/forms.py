"""Inloggningsformuläret och formuläret för koden i tvåstegsverifieringen."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    """Djangos inloggningsformulär, med ett synligt besked för all felaktig inmatning.

    Sidan visar bara beskeden ovanför formuläret: ett tomt fält eller ett ogiltigt
    användarnamn ger därför samma besked som fel lösenord. Djangos formulär sätter
    användarnamnets maxlängd först efter att fältet skapats, så den kontrolleras aldrig av
    fältet självt; ett längre namn skulle nå django-axes, vars kolumn (255 tecken) då
    sprängs i PostgreSQL. Det kontrolleras här, innan något lösenord prövas.
    """

    def clean(self) -> dict[str, Any]:
        """Fältfel och för långa användarnamn ger beskedet om fel inloggning; annars Djangos kontroll."""
        username = self.cleaned_data.get("username")
        field = self.fields["username"]
        limit = field.max_length if isinstance(field, forms.CharField) else None
        too_long = username is not None and limit is not None and len(username) > limit
        if too_long or self.has_error("username") or self.has_error("password"):
            raise self.get_invalid_login_error()
        return super().clean()


class SecondFactorForm(forms.Form):
    """Koden i andra steget: sex siffror från appen eller en reservkod."""

    otp_token = forms.CharField(
        label="Kod",
        max_length=32,
        error_messages={"required": "Skriv koden som appen visar."},
    )
