"""Sändformuläret för envägs-SMS."""

from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator

from common.smstext import unix_newlines
from smsportal.phone import ERROR_MESSAGE as INVALID_PHONE_MESSAGE
from smsportal.phone import InvalidPhoneNumber, parse_swedish_mobile
from templates_app.models import MessageTemplate


class SendForm(forms.Form):
    """Mall, mobilnummer och (eventuellt redigerad) text. Allt som skrivits finns kvar vid fel."""

    template = forms.ModelChoiceField(
        queryset=MessageTemplate.objects.active(),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Välj en mall till vänster.",
            "invalid_choice": "Mallen finns inte längre. Välj en annan mall.",
        },
    )
    phone = forms.CharField(
        label="Mobilnummer",
        max_length=40,
        error_messages={"required": "Ange patientens mobilnummer.", "max_length": INVALID_PHONE_MESSAGE},
    )
    body = forms.CharField(
        label="Meddelande",
        strip=True,
        error_messages={"required": "Meddelandet är tomt. Välj en mall eller skriv en text."},
    )
    request_id = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Sätter ett nytt engångs-id på tomma formulär och textens maxlängd."""
        super().__init__(*args, **kwargs)
        self.fields["request_id"].initial = uuid.uuid4()
        # self.fields har typen dict[str, Field]; fältet är klassens CharField (body ovan).
        body = cast(forms.CharField, self.fields["body"])
        body.max_length = settings.SMS_MAX_LENGTH
        body.validators.append(MaxLengthValidator(settings.SMS_MAX_LENGTH))
        body.widget.attrs["maxlength"] = settings.SMS_MAX_LENGTH
        body.error_messages["max_length"] = f"Meddelandet är för långt: högst {settings.SMS_MAX_LENGTH} tecken."

    def clean_body(self) -> str:
        """Radbrytningar som i webbläsarens räknare (CRLF från formuläret blir LF)."""
        return unix_newlines(self.cleaned_data["body"])

    def clean_phone(self) -> str:
        """Tolkar det inklistrade numret till E.164; bara svenska mobilnummer godtas."""
        try:
            return parse_swedish_mobile(self.cleaned_data["phone"])
        except InvalidPhoneNumber as error:
            raise forms.ValidationError(str(error), code="invalid_phone") from None
