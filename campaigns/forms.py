"""Formuläret för en ny kampanj: den lediga tiden, operationstypen och mottagarlistan."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from campaigns.optout import leave_out_opted_out
from campaigns.recipients import ParseResult, parse_recipients
from common.privacy import looks_like_phone_number
from smsportal.phone import InvalidPhoneNumber, mask_phone, parse_swedish_mobile


class CampaignForm(forms.Form):
    """Allt som skrivits finns kvar vid fel; varje felaktig rad i listan namnges."""

    slot_date = forms.DateField(
        label="Datum",
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
        error_messages={"required": "Ange datum för den lediga tiden.", "invalid": "Ange ett giltigt datum."},
    )
    slot_time = forms.TimeField(
        label="Klockslag",
        widget=forms.TimeInput(attrs={"type": "time", "class": "form-control"}),
        error_messages={
            "required": "Ange klockslag för den lediga tiden.",
            "invalid": "Ange ett giltigt klockslag, t.ex. 08:00.",
        },
    )
    operation_type = forms.CharField(
        label="Operationstyp (valfri)",
        required=False,
        max_length=60,
        help_text="T.ex. axeloperation. Skickas bara till patienter som samtyckt till SMS om sina bokningar.",
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "t.ex. axeloperation"}),
    )
    recipients = forms.CharField(
        label="Mottagare",
        help_text="En patient per rad: namn, mobilnummer och samtycke (ja/nej), t.ex. "
        "Anna Andersson, 070-123 45 67, ja. Går att klistra in direkt från Excel.",
        widget=forms.Textarea(attrs={"rows": 10, "class": "form-control font-monospace", "spellcheck": "false"}),
        error_messages={"required": "Klistra in minst en mottagare."},
    )
    notify_phone = forms.CharField(
        label="Mobil för SMS-avisering (valfri)",
        required=False,
        max_length=40,
        help_text="Personalens mobil: får ett SMS när första patienten svarar JA (utan patientens namn eller nummer).",
        widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "tel", "autocomplete": "off"}),
    )
    request_id = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Nytt engångs-id på tomma formulär."""
        super().__init__(*args, **kwargs)
        self.fields["request_id"].initial = str(uuid.uuid4())
        # De tolkade mottagarna; tomt tills listan prövats (clean_recipients).
        self.parsed = ParseResult(recipients=[], errors=[])
        # Rader vars nummer bett att inte få fler förfrågningar: namngivna, får inget SMS.
        self.opt_out_notices: list[str] = []

    def clean_operation_type(self) -> str:
        """Operationstypen sparas och skickas: ett telefonnummer hör inte hemma där."""
        value = self.cleaned_data["operation_type"]
        if looks_like_phone_number(value):
            raise forms.ValidationError("Operationstypen får inte innehålla ett telefonnummer.")
        return value

    def clean_notify_phone(self) -> str:
        """Aviseringsnumret som E.164 (tomt = ingen avisering); bara svenska mobilnummer."""
        value = self.cleaned_data["notify_phone"].strip()
        if not value:
            return ""
        try:
            return parse_swedish_mobile(value)
        except InvalidPhoneNumber:
            raise forms.ValidationError("Ange ett svenskt mobilnummer, t.ex. 070-123 45 67.") from None

    @property
    def notify_phone_masked(self) -> str:
        """Aviseringsnumret maskerat för förhandsgranskningen, t.ex. "070-123 ****" (tomt utan nummer)."""
        value = getattr(self, "cleaned_data", {}).get("notify_phone", "")
        return mask_phone(value) if value else ""

    def clean_request_id(self) -> str:
        """Formulärets engångs-id; ett saknat eller påhittat id ersätts med ett nytt (fältet är dolt)."""
        value = self.cleaned_data["request_id"]
        try:
            return str(uuid.UUID(value))
        except ValueError:
            return str(uuid.uuid4())

    def clean_recipients(self) -> str:
        """Tolkar listan; fel per rad visas på svenska och listan står kvar."""
        text = self.cleaned_data["recipients"]
        if len(text) > 20_000:
            raise forms.ValidationError("Listan är för lång.")
        parsed = parse_recipients(text, max_recipients=settings.CAMPAIGN_MAX_RECIPIENTS)
        kept = leave_out_opted_out(parsed.recipients)
        self.parsed = ParseResult(recipients=kept.recipients, errors=parsed.errors)
        self.opt_out_notices = kept.notices
        if self.parsed.errors:
            raise forms.ValidationError(self.parsed.errors)
        if not parsed.recipients:
            raise forms.ValidationError("Klistra in minst en mottagare.")
        if not self.parsed.recipients:
            raise forms.ValidationError("Ingen mottagare kvar: alla i listan har bett att inte få fler förfrågningar.")
        return text

    def clean(self) -> dict[str, Any]:
        """Den lediga tiden måste ligga i framtiden."""
        super().clean()
        data = self.cleaned_data
        if data.get("slot_date") and data.get("slot_time"):
            slot_at = timezone.make_aware(datetime.combine(data["slot_date"], data["slot_time"]))
            if slot_at <= timezone.now():
                self.add_error("slot_time", "Tiden har redan passerat.")
            data["slot_at"] = slot_at
        return data
