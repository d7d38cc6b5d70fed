"""Formuläret för en ny kampanj: den lediga tiden, svarstiden, operationstypen, mottagarlistan och
sändningssättet (alla på en gång eller i grupper) – och formuläret "Lägg till mottagare"."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from campaigns.optout import leave_out_opted_out
from campaigns.recipients import ParseResult, parse_recipients
from common.privacy import looks_like_phone_number
from smsportal.phone import InvalidPhoneNumber, mask_phone, parse_swedish_mobile

#: Svarstiden förvalt: så här långt före den lediga tiden.
DEFAULT_DEADLINE_BEFORE_SLOT = timedelta(hours=2)
#: Patienterna får alltid minst så här lång tid att svara.
MIN_ANSWER_TIME = timedelta(minutes=15)
SEND_ALL = "alla"
SEND_WAVES = "grupper"


def parse_recipient_list(text: str) -> tuple[ParseResult, list[str]]:
    """Tolkar den inklistrade listan som vid skapandet (samma regler och fel i båda formulären).

    Rader vars nummer bett att inte få fler förfrågningar lämnas ut; de namnges i den andra
    listan (aldrig med numret). Blir ingen mottagare kvar är det ett fel.
    """
    if len(text) > 20_000:
        raise forms.ValidationError("Listan är för lång.")
    parsed = parse_recipients(text, max_recipients=settings.CAMPAIGN_MAX_RECIPIENTS)
    if parsed.errors:
        raise forms.ValidationError(parsed.errors)
    if not parsed.recipients:
        raise forms.ValidationError("Klistra in minst en mottagare.")
    kept = leave_out_opted_out(parsed.recipients)
    if not kept.recipients:
        raise forms.ValidationError("Ingen mottagare kvar: alla i listan har bett att inte få fler förfrågningar.")
    return ParseResult(recipients=kept.recipients, errors=[]), kept.notices


def _next_minute(moment: datetime) -> datetime:
    """Uppåt till hel minut (formulärets fält har minutupplösning)."""
    rounded = moment.replace(second=0, microsecond=0)
    return rounded if rounded == moment else rounded + timedelta(minutes=1)


def default_deadline(slot_at: datetime, now: datetime) -> datetime:
    """Förvald svarstid: två timmar före tiden, men aldrig närmare än 15 minuter från nu."""
    return max(slot_at - DEFAULT_DEADLINE_BEFORE_SLOT, _next_minute(now + MIN_ANSWER_TIME))


class CampaignForm(forms.Form):
    """Allt som skrivits finns kvar vid fel; varje felaktig rad i listan namnges."""

    title = forms.CharField(
        label="Rubrik (valfri)",
        required=False,
        max_length=100,
        help_text="Bara för personalen: syns i kampanjlistan, aldrig i SMS:et eller för patienten.",
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )

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
    answer_deadline = forms.DateTimeField(
        label="Svara senast (valfri)",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="Tomt: två timmar före tiden. Därefter stänger kampanjen sig själv och länkarna slutar gälla.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "class": "form-control"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": "Ange ett giltigt datum och klockslag för svara senast."},
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
    send_mode = forms.ChoiceField(
        label="Sändning",
        choices=[(SEND_ALL, "Skicka alla på en gång"), (SEND_WAVES, "Skicka i grupper")],
        initial=SEND_ALL,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Välj hur SMS:en ska skickas."},
    )
    wave_size = forms.IntegerField(
        label="Antal per grupp",
        required=False,
        initial=5,
        min_value=1,
        max_value=1000,
        error_messages={
            "invalid": "Ange antal per grupp som ett heltal.",
            "min_value": "Antal per grupp måste vara minst 1.",
            "max_value": "Antal per grupp får vara högst 1000.",
        },
    )
    wave_minutes = forms.IntegerField(
        label="Minuter mellan grupper",
        required=False,
        initial=10,
        min_value=1,
        max_value=1440,
        error_messages={
            "invalid": "Ange minuter mellan grupper som ett heltal.",
            "min_value": "Minuter mellan grupper måste vara minst 1.",
            "max_value": "Minuter mellan grupper får vara högst 1440 (ett dygn).",
        },
    )
    pause_on_yes = forms.BooleanField(label="Pausa när någon svarat JA", required=False, initial=True)
    request_id = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Nytt engångs-id på tomma formulär."""
        super().__init__(*args, **kwargs)
        self.fields["request_id"].initial = str(uuid.uuid4())
        # De tolkade mottagarna; tomt tills listan prövats (clean_recipients).
        self.parsed = ParseResult(recipients=[], errors=[])
        # Rader vars nummer bett att inte få fler förfrågningar: namngivna, får inget SMS.
        self.opt_out_notices: list[str] = []

    def clean_title(self) -> str:
        """Rubriken visas i listor: ett telefonnummer hör inte hemma där."""
        value = self.cleaned_data["title"].strip()
        if looks_like_phone_number(value):
            raise forms.ValidationError("Rubriken får inte innehålla ett telefonnummer.")
        return value

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
        self.parsed, self.opt_out_notices = parse_recipient_list(text)
        return text

    def clean(self) -> dict[str, Any]:
        """Den lediga tiden i framtiden, svarstiden före den och minst 15 minuter bort, grupperna."""
        super().clean()
        data = self.cleaned_data
        if data.get("slot_date") and data.get("slot_time"):
            slot_at = timezone.make_aware(datetime.combine(data["slot_date"], data["slot_time"]))
            data["slot_at"] = slot_at
            if slot_at <= timezone.now():
                self.add_error("slot_time", "Tiden har redan passerat.")
            elif "answer_deadline" in data:
                self._clean_deadline(slot_at)
        self._clean_waves()
        return data

    def _clean_deadline(self, slot_at: datetime) -> None:
        """Svara senast: förval två timmar före tiden; aldrig efter tiden, minst 15 minuter från nu."""
        data = self.cleaned_data
        now = timezone.now()
        deadline = data.get("answer_deadline") or default_deadline(slot_at, now)
        if deadline > slot_at:
            if data.get("answer_deadline"):
                self.add_error("answer_deadline", "Svara senast kan inte vara efter den lediga tiden.")
            else:
                self.add_error("slot_time", "Tiden är för nära: patienterna behöver minst 15 minuter att svara.")
        elif deadline < now + MIN_ANSWER_TIME - timedelta(minutes=1):
            # En minuts marginal: fältet har minutupplösning och förhandsgranskningen tar en stund.
            self.add_error("answer_deadline", "Svara senast måste vara minst 15 minuter från nu.")
        data["answer_deadline"] = deadline

    def _clean_waves(self) -> None:
        """I grupper: antal per grupp och minuter mellan grupper krävs; annars alla på en gång."""
        data = self.cleaned_data
        data["send_mode"] = data.get("send_mode") or SEND_ALL
        if data["send_mode"] != SEND_WAVES:
            # Fälten för grupper gäller inte: ett felskrivet värde där stoppar inte sändningen.
            for field in ("wave_size", "wave_minutes"):
                self.errors.pop(field, None)
            data["wave_size"] = None
            data["wave_minutes"] = self.fields["wave_minutes"].initial
            return
        for field, message in (
            ("wave_size", "Ange antal per grupp."),
            ("wave_minutes", "Ange minuter mellan grupper."),
        ):
            if data.get(field) is None and field not in self.errors:
                self.add_error(field, message)

    @property
    def wave_count(self) -> int:
        """Antalet grupper för förhandsgranskningen (1 = alla på en gång)."""
        size = self.cleaned_data.get("wave_size")
        count = len(self.parsed.recipients)
        return -(-count // size) if size else 1


class AddRecipientsForm(forms.Form):
    """ "Lägg till mottagare" på kampanjsidan: samma lista, regler och fel som vid skapandet."""

    recipients = forms.CharField(
        label="Lägg till mottagare",
        help_text="En patient per rad, som när kampanjen skapades. Läggs sist i prioritetsordningen.",
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control font-monospace", "spellcheck": "false"}),
        error_messages={"required": "Klistra in minst en mottagare."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """De tolkade mottagarna är tomma tills listan prövats."""
        super().__init__(*args, **kwargs)
        self.parsed = ParseResult(recipients=[], errors=[])
        self.opt_out_notices: list[str] = []

    def clean_recipients(self) -> str:
        """Tolkar listan; fel per rad visas på svenska och listan står kvar."""
        text = self.cleaned_data["recipients"]
        self.parsed, self.opt_out_notices = parse_recipient_list(text)
        return text
