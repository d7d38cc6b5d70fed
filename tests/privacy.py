"""Sökning efter persondata: finns ett nummer eller en text kvar i databasen, cachen eller loggarna?

Ett nummer söks som reguljärt uttryck över siffrorna med skiljetecken emellan (mellanslag,
bindestreck, parenteser, även URL- och JSON-kodade; `phone_pattern`), en text i varje kodning den
kan lagras eller skickas i (`text_forms`). Höstackarna får vara text eller råa bytes."""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import pickle
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, quote_plus

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection

# Högst tre skiljetecken mellan två siffror: ett tecken som inte är bokstav eller siffra (mellanslag,
# bindestreck, punkt, parentes, "+" från quote_plus, NUL från UTF-16 …) eller en kodad form av ett
# sådant (%20, \u00a0, \xa0, &nbsp;). Inte fältgränser (, ; : ' " = | radbrytning) och inte
# maskeringstecken (* •): "070-123 ****" och fält i följd ska aldrig bilda ett nummer.
_SEPARATOR = r"(?:%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2}|&#?[0-9A-Za-z]{1,8};|[^\w\n\r,;:'\"=|*•])"
_GAP = _SEPARATOR + "{0,3}"

Needle = str | re.Pattern[str]


def phone_forms(e164: str) -> list[str]:
    """Ett svenskt mobilnummer (E.164) i alla former det kan skrivas: +46…, 46…, 07…, 7…, med mellanslag."""
    national = "0" + e164[3:]
    return [
        e164,
        e164[1:],
        national,
        national[1:],
        f"{national[:3]}-{national[3:6]} {national[6:8]} {national[8:]}",
        f"{national[:3]} {national[3:6]} {national[6:8]} {national[8:]}",
        f"+46 {national[1:3]} {national[3:6]} {national[6:8]} {national[8:]}",
        national[3:],  # sista sju siffrorna
    ]


def digits_pattern(digits: str) -> re.Pattern[str]:
    """Siffrorna i följd med upp till tre skiljetecken (eller kodade skiljetecken) mellan varje par."""
    return re.compile(_GAP.join(re.escape(digit) for digit in digits))


def phone_pattern(e164: str) -> re.Pattern[str]:
    """Numret skrivet på vilket sätt som helst: de sju sista siffrorna med skiljetecken emellan.

    Täcker allt som innehåller hela numret (+46 (0)70…, 0046 70-…, 070 98 76 543, %2B4670…,
    070-987%2065%2043, JSON med \\u00a0) och även nummer där bara slutet står kvar. Den maskerade
    formen ("070-987 ****") visar bara siffra 1–5 av de nio och kan aldrig träffa; nyckelhashen
    (HMAC i hex) saknar sju siffror i följd."""
    return digits_pattern(e164[-7:])


def text_forms(text: str) -> list[str]:
    """Texten i varje form den kan lagras, loggas eller skickas i, utan dubbletter: som den är,
    escapad (JSON, repr, HTML), URL-kodad och som bytes (UTF-8, UCS-2/UTF-16, hex, base64)."""
    forms = [text, *_escaped_forms(text), *_url_forms(text)]
    for encoding in ("utf-8", "utf-16-be", "utf-16-le"):
        forms += _byte_forms(text.encode(encoding))
    forms += _base64_forms(text.encode("utf-8"))
    return list(dict.fromkeys(forms))


def _escaped_forms(text: str) -> list[str]:
    """JSON (ensure_ascii ger \\u00f6, så lagrar SQLite ett JSONField), repr/ascii och HTML."""
    escaped = html.escape(text)
    return [
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=False)[1:-1],
        repr(text)[1:-1],
        ascii(text)[1:-1],
        escaped,
        escaped.encode("ascii", "xmlcharrefreplace").decode("ascii"),  # &#246;
    ]


def _url_forms(text: str) -> list[str]:
    """URL-kodat som i en sökväg och i ett formulär, i UTF-8 och latin-1, med stora och små hex-siffror."""
    forms = [
        quote(text, safe=""),
        quote(text),
        quote_plus(text),
        quote(text, safe="", encoding="latin-1", errors="replace"),
        quote_plus(text, encoding="latin-1", errors="replace"),
    ]
    return forms + [re.sub(r"%[0-9A-F]{2}", lambda hit: hit.group().lower(), form) for form in forms]


def _byte_forms(raw: bytes) -> list[str]:
    """Bytes som de syns i text: hex (UCS-2 till leverantörer), latin-1-läsning och Pythons bytes-repr."""
    return [raw.hex(), raw.hex().upper(), raw.decode("latin-1"), repr(raw)[2:-1]]


def _base64_forms(raw: bytes) -> list[str]:
    """base64 av texten i de tre lägen den kan ha i en längre ström (hela grupper om tre byte);
    bara långa former, så att en kort bit inte träffar av en slump."""
    forms = []
    for start in range(3):
        chunk = raw[start:]
        chunk = chunk[: len(chunk) // 3 * 3]
        if len(chunk) >= 12:
            forms += [base64.b64encode(chunk).decode(), base64.urlsafe_b64encode(chunk).decode()]
    return forms


def database_text() -> str:
    """Hela databasens innehåll som text: varje rad i varje tabell, och avkodade sessioner."""
    chunks = [table_text(table) for table in connection.introspection.table_names()]
    chunks.extend(repr(session.get_decoded()) for session in Session.objects.all())
    chunks.extend(_django_q_text())
    return "\n".join(chunks)


def table_text(table: str) -> str:
    """En tabells alla rader som text, cell för cell (som `database_text` läser dem)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        return "\n".join(_row_text(row) for row in cursor.fetchall())


def _row_text(row: Iterable[Any]) -> str:
    """En rad cell för cell, en cell per rad: text som den är lagrad (ett JSONField på SQLite
    syns som "H\\u00e4mtning", inte dubbelt escapat som i repr), bytes avkodade, annat som repr."""
    return "\n".join(_cell_text(cell) for cell in row)


def _cell_text(cell: Any) -> str:
    """En cell som text: str som den är, bytes (PostgreSQL ger memoryview) i varje läsbar form."""
    if isinstance(cell, str):
        return cell
    if isinstance(cell, bytes | bytearray | memoryview):
        return decoded(bytes(cell))
    return repr(cell)


def _django_q_text() -> list[str]:
    """django-q2 sparar jobbens argument picklade och signerade: avkoda dem innan sökningen."""
    from django_q.models import OrmQ, Schedule, Task

    chunks = [repr((task.func, task.args, task.kwargs, task.result)) for task in Task.objects.all()]
    chunks += [repr(queued.task) for queued in OrmQ.objects.all()]
    chunks += [repr((schedule.func, schedule.args, schedule.kwargs)) for schedule in Schedule.objects.all()]
    return chunks


def cache_text() -> str:
    """Cachens innehåll som text (LocMemCache i minnet, eller alla nycklar i Redis), avkodat."""
    backend = cache._cache if hasattr(cache, "_cache") else None  # type: ignore[attr-defined]
    if isinstance(backend, dict):
        return "\n".join(repr(pickle.loads(value)) for value in backend.values())
    client = cache._cache.get_client()  # type: ignore[attr-defined]
    return "\n".join(decoded(value) for key in client.scan_iter("*") for value in [key, *_redis_values(client, key)])


def _redis_values(client: Any, key: bytes) -> list[bytes]:
    """Alla värden under en Redis-nyckel oavsett typ (cache, django-q2:s kö, kanal-lagret)."""
    kind = client.type(key).decode()
    readers = {
        "string": lambda: [client.get(key)],
        "list": lambda: client.lrange(key, 0, -1),
        "hash": lambda: [part for pair in client.hgetall(key).items() for part in pair],
        "set": lambda: list(client.smembers(key)),
        "zset": lambda: client.zrange(key, 0, -1),
    }
    return [value for value in readers.get(kind, lambda: [])() if value is not None]


def decoded(raw: bytes) -> str:
    """Ett rått värde i varje form det kan läsas: UTF-8, pickle (cachen), django-q2:s signerade
    och komprimerade paket (kön) och msgpack (kanal-lagret). "för" ska hittas som "för", inte som bytes."""
    from django_q.signing import SignedPackage

    readings = _byte_readings(raw)
    readers = (
        pickle.loads,
        lambda data: SignedPackage.loads(data.decode("ascii")),
        _msgpack,
        lambda data: _msgpack(data[12:]),  # channels_redis sätter 12 slumpbyten före meddelandet
    )
    for reader in readers:
        try:
            readings.append(repr(reader(raw)))
        except Exception:  # noqa: BLE001, S112 – värdet var inte i den formen
            continue
    return "\n".join(readings)


def _byte_readings(raw: bytes) -> list[str]:
    """Bytes lästa som UTF-8 och, om de inte är ren ASCII, även som latin-1 (varje byte ett tecken:
    UTF-16 och andra kodningar syns då som `text_forms` skriver dem)."""
    readings = [raw.decode("utf-8", errors="replace")]
    if not raw.isascii():
        readings.append(raw.decode("latin-1"))
    return readings


def _msgpack(raw: bytes) -> Any:
    """Kanal-lagrets meddelanden (channels_redis packar med msgpack)."""
    import msgpack

    return msgpack.unpackb(raw, raw=False, strict_map_key=False)


@contextmanager
def portal_log() -> Iterator[io.StringIO]:
    """Det portalens egna logghanterare (LOGGING) skriver, på DEBUG-nivå: varje hanterare skriver
    tillfälligt till en gemensam StringIO, med sina filter och sin formaterare, i stället för stderr.
    Felbreven till ADMINS (ErrorMailHandler) prövas för sig i tests/config/test_error_reports.py."""
    from config.error_reports import ErrorMailHandler

    named = [log for log in logging.root.manager.loggerDict.values() if isinstance(log, logging.Logger)]
    configured = settings.LOGGING["handlers"]
    every = [handler for logger in [logging.root, *named] for handler in logger.handlers]
    written = [handler for handler in every if handler.name in configured and not isinstance(handler, ErrorMailHandler)]
    handlers = list(dict.fromkeys(written))
    assert handlers and all(isinstance(handler, logging.StreamHandler) for handler in handlers), handlers
    captured = io.StringIO()
    before = [(handler, handler.setStream(captured), handler.level) for handler in handlers]
    for handler in handlers:
        handler.setLevel(logging.DEBUG)
    try:
        yield captured
    finally:
        for handler, stream, level in before:
            handler.setStream(stream)
            handler.setLevel(level)


def leaks(needles: Iterable[Needle], **haystacks: str | bytes) -> list[str]:
    """Vilka nålar som finns i vilka höstackar (tom lista = inga läckor). En nål är en text eller
    ett reguljärt uttryck (`phone_pattern`, då visas det som hittades); bytes söks i varje läsning."""
    needles = list(needles)
    found = []
    for name, haystack in haystacks.items():
        readings = _byte_readings(haystack) if isinstance(haystack, bytes) else [haystack]
        hits = (_first_hit(needle, readings) for needle in needles)
        found.extend(f"{hit!r} i {name}" for hit in hits if hit is not None)
    return found


def _first_hit(needle: Needle, readings: list[str]) -> str | None:
    """Det som hittades av nålen i någon av läsningarna (texten själv, eller uttryckets träff)."""
    for reading in readings:
        if isinstance(needle, str) and needle in reading:
            return needle
        if isinstance(needle, re.Pattern) and (match := needle.search(reading)):
            return match.group()
    return None
