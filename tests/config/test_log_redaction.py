"""Loggfiltret RedactSecrets: svarskoder i sökvägar och webhook-token blir aldrig en loggrad, vare sig
i meddelandet eller i undantagets text, och varje logger i portalen skriver genom filtret."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from django.conf import settings as django_settings

from config.log_redaction import HIDDEN_TEXT, RedactSecrets

CODE = "Zq8RkW2mPx7Lb4Tn9"
TOKEN = "webhook-token med åäö&tecken"
#: Loggrar som skriver ut sökvägar eller adresser: Django, daphne (även dess runserver) och django-q2.
PATH_LOGGERS = [
    "django.request",
    "django.server",
    "django.security.csrf",
    "django.security.DisallowedHost",
    "django.channels.server",
    "daphne.http_protocol",
    "daphne.ws_protocol",
    "daphne.server",
    "django-q",
    "smsportal.webhooks",
]


@pytest.fixture
def written(settings: Any) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """En logger vars enda hanterare har portalens filter och formaterare; (logger, det som skrevs)."""
    settings.SMS_WEBHOOK_TOKEN = TOKEN
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets())
    handler.setFormatter(logging.Formatter(django_settings.LOGGING["formatters"]["plain"]["format"]))
    logger = logging.getLogger("tests.log_redaction")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate = True


@pytest.mark.parametrize(
    ("message", "args", "expected"),
    [
        ("Forbidden (%s): %s", ("CSRF cookie not set.", f"/s/{CODE}"), "Forbidden (CSRF cookie not set.): /s/[kod]"),
        ("Not Found: %s", (f"/s/{CODE}/oppnad",), "Not Found: /s/[kod]"),
        (
            "HTTP %(method)s %(path)s %(status)s",
            ({"method": "GET", "path": f"/s/{CODE}", "status": 200},),
            "HTTP GET /s/[kod] 200",
        ),
        ("Länk: %s", (f"https://sms.example.se/s/{CODE}",), "Länk: https://sms.example.se/s/[kod]"),
        ("Till %s", (f"/konto/logga-in/?next=%2Fs%2F{CODE}",), "Till /konto/logga-in/?next=%2Fs%2F[kod]"),
        ("Fel i %r", (f"/s/{CODE}",), "Fel i '/s/[kod]'"),
    ],
)
def test_reply_code_paths_are_redacted(
    written: tuple[logging.Logger, io.StringIO], message: str, args: tuple[Any, ...], expected: str
) -> None:
    """Patientens sökväg, i Djangos, daphnes och egna loggformer, skrivs utan koden."""
    logger, stream = written
    logger.warning(message, *args)
    assert expected in stream.getvalue()
    assert CODE not in stream.getvalue()


def test_webhook_token_is_redacted(written: tuple[logging.Logger, io.StringIO]) -> None:
    """Den inställda token (som den är och URL-kodad) och varje `token=`-värde skrivs aldrig ut."""
    logger, stream = written
    logger.warning("Not Found: /webhooks/sms/%s/", TOKEN)
    logger.warning("Not Found: /webhooks/sms/%s/", quote(TOKEN, safe=""))
    logger.warning('"POST /webhooks/sms/46elks/?token=%s&x=1 HTTP/1.1" 403', quote_plus(TOKEN))
    logger.warning("Anrop till /webhooks/sms/sinch/?Token=en-gammal-token")
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith("Not Found: /webhooks/sms/[token]/")
    assert lines[1].endswith("Not Found: /webhooks/sms/[token]/")
    assert lines[2].endswith('"POST /webhooks/sms/46elks/?token=[token]&x=1 HTTP/1.1" 403')
    assert lines[3].endswith("/webhooks/sms/sinch/?Token=[token]")
    assert "webhook-token" not in stream.getvalue() and "gammal" not in stream.getvalue()


def test_exception_is_written_without_its_text(written: tuple[logging.Logger, io.StringIO]) -> None:
    """Ett undantag skrivs med typ, ramar och kodrader men aldrig med sin text (där ett SDK kan ha
    skrivit numret och SMS-texten); en hanterare utan filtret efter den rensande läser samma text
    (`record.exc_text`) i stället för att formatera om."""
    logger, stream = written
    unfiltered = io.StringIO()
    plain = logging.StreamHandler(unfiltered)
    logger.addHandler(plain)
    sent = "+46701234567: Hej! Din operationstid"  # som ett SDK skriver det den fick
    try:
        try:
            raise ValueError(sent)
        except ValueError as cause:
            raise RuntimeError(f"Oväntat fel för /s/{CODE} med {TOKEN}") from cause
    except RuntimeError:
        logger.exception("Internal Server Error: %s", f"/s/{CODE}")
    finally:
        logger.removeHandler(plain)
    for text in (stream.getvalue(), unfiltered.getvalue()):
        assert "Traceback (most recent call last)" in text and "Det ledde till:" in text
        assert f"ValueError: {HIDDEN_TEXT}" in text and f"RuntimeError: {HIDDEN_TEXT}" in text
        assert "test_exception_is_written_without_its_text" in text  # ramen finns kvar
        for secret in (CODE, TOKEN, "701234567", "Hej! Din operationstid"):
            assert secret not in text


def test_other_text_is_unchanged(written: tuple[logging.Logger, io.StringIO]) -> None:
    """Rader utan hemligheter skrivs som de är (också /static/, /sms/ och procenttecken)."""
    logger, stream = written
    line = "Kampanj 12: 3 svar, 100 % levererat, /static/css/app.css, /webhooks/sms/46elks/, csrftoken=x"
    logger.info("%s", line)
    assert stream.getvalue().rstrip().endswith(line)


def test_unformattable_message_is_logged_without_error(written: tuple[logging.Logger, io.StringIO]) -> None:
    """Ett meddelande vars argument inte passar ger en fast rad, inget fel i den som loggar."""
    logger, stream = written
    logger.warning("Två fält %s %s men ett värde", f"/s/{CODE}")
    assert "(loggraden kunde inte formateras: TypeError)" in stream.getvalue()
    assert CODE not in stream.getvalue()


def reached_handlers(logger: logging.Logger) -> list[logging.Handler]:
    """Hanterarna som en post från loggern når (uppåt så länge propagate gäller), utom pytests egna."""
    found: list[logging.Handler] = []
    current: logging.Logger | None = logger
    while current is not None:
        found += [handler for handler in current.handlers if not type(handler).__module__.startswith("_pytest")]
        if not current.propagate:
            break
        current = current.parent  # type: ignore[assignment]
    return found


def redacts(handler: logging.Handler) -> bool:
    """Sant om hanteraren har portalens filter eller inte skriver något alls (NullHandler, som
    bibliotek som urllib3 sätter på sina loggrar)."""
    if isinstance(handler, logging.NullHandler):
        return True
    return any(isinstance(entry, RedactSecrets) for entry in handler.filters)


def test_every_logger_writes_through_the_filter() -> None:
    """Varje logger, också Djangos, daphnes och django-q2:s, når bara hanterare med filtret, och minst
    en (annars skriver Python raden ofiltrerad till stderr som sista utväg)."""
    configured = django_settings.LOGGING["handlers"]
    assert [name for name, handler in configured.items() if "redact_secrets" not in handler.get("filters", [])] == []
    existing = [name for name, log in logging.root.manager.loggerDict.items() if isinstance(log, logging.Logger)]
    for name in dict.fromkeys([*PATH_LOGGERS, *existing]):
        handlers = reached_handlers(logging.getLogger(name))
        assert handlers, f"{name} når ingen hanterare"
        assert all(redacts(handler) for handler in handlers), f"{name}: {handlers}"
