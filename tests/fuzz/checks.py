"""Gemensamt för egenskapstesterna: fientliga strategier och kontrollen av varje svar.

Varje exempel ska ge ett tillåtet statusvärde, aldrig en traceback eller Djangos engelska
felsidor, och inskjuten HTML (markören nedan) får bara finnas med som escapad text.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Inskjuten kod som aldrig får hamna okodad i en sida.
MARKER = "<script>fuzz(1)</script>"
#: Samma markör som Django escapar den.
MARKER_ESCAPED = "&lt;script&gt;fuzz(1)&lt;/script&gt;"

#: Fientliga värden som slumpen sällan hittar själv.
HOSTILE = st.sampled_from(
    [
        MARKER,
        '"><img src=x onerror=fuzz(2)>',
        "\x00",
        "'; DROP TABLE audit_auditevent; --",
        "{{ 7*7 }}{% debug %}",
        "\u202e\ufeff\u200b",
        "\ud7ff\U0010ffff",
        "😀" * 50,
        "%00%ff%c0%af",
        "../../etc/passwd",
        "9" * 400,
        "-1",
        "1e309",
        "",
        " ",
    ]
)
#: Slumpad text eller ett fientligt värde.
TEXT = st.one_of(st.text(max_size=300), HOSTILE)

#: Djangos och Pythons engelska felsidor: får aldrig nå en användare.
_FORBIDDEN_TEXTS = (
    "Traceback",
    "Django Version",
    "Exception Value",
    "Exception Type",
    "Request Method:",
    "Server Error (500)",
    "Bad Request (400)",
    "Forbidden (403)",
    "CSRF verification failed",
    "Page not found",
    "The requested resource",
    "Not Found</h1>",
    "RequestDataTooBig",
)

_addresses = itertools.count(1)

#: Gemensamma inställningar: få exempel (hela tests/fuzz/ ska gå på ett par minuter), ingen
#: tidsgräns per exempel (maskinen delas), och funktionsfixturer är avsiktligt delade mellan
#: exemplen (varje test städar själv det som ska vara tomt).
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def page_text(response: Any) -> str:
    """Svarets kropp som text (ogiltig UTF-8 ersätts, så kontrollen själv aldrig kraschar)."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def assert_clean(response: Any, allowed: Collection[int]) -> str:
    """Statusen är tillåten, sidan saknar tracebacks och engelska felsidor, markören är escapad.

    Returnerar sidans text för fler kontroller. En HTML-sida med felstatus ska vara portalens
    egen svenska sida.
    """
    text = page_text(response)
    assert response.status_code in allowed, f"status {response.status_code}: {text[:300]!r}"
    for forbidden in _FORBIDDEN_TEXTS:
        assert forbidden not in text, f"{forbidden!r} i svaret (status {response.status_code})"
    assert MARKER not in text, "inskjuten kod visas okodad"
    assert "<img src=x onerror=fuzz(2)>" not in text, "inskjuten HTML visas okodad"
    if response.status_code >= 400 and response.get("Content-Type", "").startswith("text/html") and text:
        assert '<html lang="sv">' in text, f"felsidan {response.status_code} är inte portalens svenska sida"
    return text


def has_nul(*values: str) -> bool:
    """Sant om något av värdena har ett NUL-tecken: då svarar portalen 400 före vyn (config.middleware)."""
    return any("\x00" in value for value in values)


def new_address() -> str:
    """En ny IP-adress för varje anrop: patientsidornas IP-gräns (60/min) döljer då inga fall.

    Ingen delad cache behöver tömmas (med Redis delas den med andra testkörningar).
    """
    number = next(_addresses)
    return f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"
