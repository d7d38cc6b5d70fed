"""Loggfilter som håller hemligheter och persondata borta ur loggarna.

Patienternas svarskoder och webhook-token rensas ur varje rad, och ett undantag skrivs bara med
sin typ och anropskedja, aldrig med sin text: leverantörernas SDK:er och databasdrivrutiner
skriver gärna in det de fick (numret, SMS-texten) i sina felmeddelanden.

En svarskod (`/s/<kod>`) är ett lösenord till patientens sida, och SMS_WEBHOOK_TOKEN släpper in
leveransrapporter. Django (CSRF-fel, 404, 405, 500), daphne och andra loggar hela sökvägar och
ibland frågesträngar. Filtret sitter på varje hanterare i LOGGING och skriver om posten innan den
formateras: meddelandet renderas (msg + args), rensas och args töms; undantaget formateras utan
sin text (`traceback_without_text`), rensas och läggs i `record.exc_text`, som formaterarna då
använder i stället för att formatera undantaget igen.

Modulen är ett löv: den importerar inget av portalens egna moduler.
"""

from __future__ import annotations

import logging
import re
import traceback
from types import TracebackType
from urllib.parse import quote, quote_plus

from django.conf import settings

#: Det som står kvar av en patientsökväg respektive en token.
CODE_PLACEHOLDER = "[kod]"
TOKEN_PLACEHOLDER = "[token]"

# "/s/" (även URL-kodat, %2F) och allt fram till blanksteg, citattecken eller vinkelparentes.
_REPLY_PATH = re.compile(r"((?:/|%2[Ff])s(?:/|%2[Ff]))[^\s'\"<>]+")
# Värdet i en `token=` (även URL-kodat, token%3D) i en frågesträng; inte t.ex. "csrftoken=".
_TOKEN_QUERY = re.compile(r"\b(token(?:=|%3[Dd]))[^&\s'\"<>#]+", re.IGNORECASE)

#: Det som står i stället för ett undantags text.
HIDDEN_TEXT = "(felets text visas inte: den kan innehålla persondata)"
#: Högst så många undantag i en kedja (raise … from …) skrivs ut.
_MAX_CHAIN = 5

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def redact(text: str) -> str:
    """Texten utan svarskoder i sökvägar, utan den inställda webhook-token och utan `token=`-värden."""
    for form in _token_forms():
        text = text.replace(form, TOKEN_PLACEHOLDER)
    text = _TOKEN_QUERY.sub(rf"\g<1>{TOKEN_PLACEHOLDER}", text)
    return _REPLY_PATH.sub(rf"\g<1>{CODE_PLACEHOLDER}", text)


def _token_forms() -> list[str]:
    """Den inställda webhook-token som den är och URL-kodad (tom lista om ingen token är satt)."""
    token = getattr(settings, "SMS_WEBHOOK_TOKEN", "") if settings.configured else ""
    if not token:
        return []
    return list(dict.fromkeys([token, quote(token, safe=""), quote_plus(token)]))


class RedactSecrets(logging.Filter):
    """Skriver om varje loggpost så att ingen svarskod och ingen webhook-token når hanteraren."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rensar meddelande, undantagstext och stackinformation; släpper alltid igenom posten."""
        record.msg = redact(_rendered(record))
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = traceback_without_text(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _rendered(record: logging.LogRecord) -> str:
    """Meddelandet med argumenten insatta; ett meddelande som inte går att formatera blir en fast text
    (filtret får aldrig kasta: då skulle loggraden i stället skrivas ut orensad som loggfel)."""
    try:
        return record.getMessage()
    except Exception as error:  # noqa: BLE001 – vilket formateringsfel som helst
        return f"(loggraden kunde inte formateras: {type(error).__name__})"


def traceback_without_text(exc_info: ExcInfo | tuple[None, None, None]) -> str:
    """Undantaget som Python skriver det (kedjan, ramarna, kodraderna) men varje fel bara med sin typ."""
    error = exc_info[1]
    if error is None:
        return ""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain and len(chain) < _MAX_CHAIN:
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    blocks = [_one_exception(item) for item in reversed(chain)]
    return "\n\nDet ledde till:\n\n".join(blocks)


def _one_exception(error: BaseException) -> str:
    """Ett undantags ramar (fil, rad, funktion, kodrad) och typ, utan text och utan variabler."""
    frames = "".join(traceback.StackSummary.extract(traceback.walk_tb(error.__traceback__)).format())
    kind = type(error)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    return f"Traceback (most recent call last):\n{frames}{name}: {HIDDEN_TEXT}"
