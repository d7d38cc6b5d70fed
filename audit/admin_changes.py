"""Ändringar i Django admin till audit-loggen: vem lade till, ändrade eller raderade vad, och när.

Django skriver varje ändring i objektets historik (`LogEntry`, "Historik" i admin), men den syns
bara på objektets egen sida (borta när objektet raderats) och raderas med kontot som gjorde
ändringen. Portalens adminsajt (config.admin_site) lägger `AuditedAdmin` i varje registrerad admin,
så varje historikrad också blir en rad "Ändring i administrationen" i audit-loggen: status
tillagd/ändrad/raderad och i orsaken vad (modellen, namnet och Djangos beskrivning av ändringen,
t.ex. "Ändrade Meddelandetext och Aktiv." – fältens namn, aldrig deras värden).

Namnet skrivs bara för modeller utan patientdata (`NAMED_MODELS`: mallar, kategorier,
personalkonton, grupper, schemalagda jobb); andra får bara sitt id, och en rad som liknar ett
telefonnummer får också bara modellen och id:t.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.http import HttpRequest
from django.utils.text import capfirst

from audit.models import Action
from audit.services import record
from common.privacy import looks_like_phone_number

#: Status per slags ändring i Djangos historik.
STATUS = {ADDITION: "tillagd", CHANGE: "ändrad", DELETION: "raderad"}
#: Modeller ("app.modell") vars objekt får sitt namn i loggen: inga patientuppgifter i namnen.
NAMED_MODELS = frozenset(
    {"templates_app.category", "templates_app.messagetemplate", "auth.user", "auth.group", "django_q.schedule"}
)
#: Svenska namn för modeller från paket utan svensk översättning (django-q2, django-axes).
SWEDISH_NAMES = {
    "django_q.schedule": "Schemalagt jobb",
    "django_q.success": "Lyckad uppgift",
    "django_q.failure": "Misslyckad uppgift",
    "django_q.ormq": "Köad uppgift",
    "django_q.task": "Uppgift",
    "axes.accessattempt": "Inloggningsförsök",
    "axes.accessfailurelog": "Misslyckad inloggning",
    "axes.accesslog": "Inloggning",
}
#: Audit-händelsens orsak rymmer så här många tecken.
REASON_LENGTH = 200


class AuditedAdmin(admin.ModelAdmin):
    """Varje rad Django skriver i ett objekts historik skrivs också i audit-loggen (se modulen)."""

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> LogEntry:
        """Tillagt objekt: historiken och audit-loggen."""
        entry = super().log_addition(request, obj, message)
        record_admin_change(request, entry)
        return entry

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> LogEntry:
        """Ändrat objekt (även listans åtgärder, t.ex. upplåsning): historiken och audit-loggen."""
        entry = super().log_change(request, obj, message)
        record_admin_change(request, entry)
        return entry

    def log_deletions(self, request: HttpRequest, queryset: Any) -> list[LogEntry] | LogEntry:
        """Raderade objekt, ett eller många ("Ta bort markerade"): historiken och en audit-rad per objekt."""
        entries = super().log_deletions(request, queryset)
        for entry in entries if isinstance(entries, list) else [entries]:
            record_admin_change(request, entry)
        return entries


def record_admin_change(request: HttpRequest, entry: LogEntry) -> None:
    """Audit-raden för en historikrad: vem (den inloggade), status och vad."""
    record(Action.ADMIN_CHANGE, request=request, status=STATUS.get(entry.action_flag, ""), reason=describe(entry))


def describe(entry: LogEntry) -> str:
    """T.ex. 'SMS-mall "Före besök – Fasta": Ändrade Meddelandetext och Aktiv.', eller 'Mottagare id 7' för andra modeller.

    Hela texten prövas till sist (efter avkortningen, som kan ge ett nummer av längre siffror):
    liknar den ett telefonnummer blir det bara modellen och id:t.
    """
    content_type = ContentType.objects.get_for_id(entry.content_type_id) if entry.content_type_id else None
    key = f"{content_type.app_label}.{content_type.model}" if content_type else ""
    model = content_type.model_class() if content_type else None
    kind = SWEDISH_NAMES.get(key) or (capfirst(model._meta.verbose_name) if model else "Objekt")
    by_id = f"{kind} id {entry.object_id}"
    text = f'{kind} "{entry.object_repr}"' if key in NAMED_MODELS else by_id
    message = entry.get_change_message() if entry.action_flag == CHANGE else ""
    if message:
        text += f": {message}"
    text = text[:REASON_LENGTH]
    return by_id if looks_like_phone_number(text) else text
