"""Sessionsmotorn: Djangos databassessioner, men en sessionskaka med fel tecken slås aldrig upp.

Django kontrollerar bara kakans längd innan nyckeln slås upp i databasen. En kaka med ett
NUL-tecken (t.ex. från en säkerhetsskanner) gav då ett databasfel i PostgreSQL och ett 500 på
varje sida, även patienternas. Djangos egna nycklar är 32 tecken a–z och 0–9
(`VALID_KEY_CHARS`); en kaka med andra tecken behandlas som ingen session alls.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS

_KEY_CHARACTERS = frozenset(VALID_KEY_CHARS)


class SessionStore(db.SessionStore):
    """Databassessioner som bara slår upp nycklar med Djangos egna tecken."""

    def _validate_session_key(self, key: str | None) -> bool:
        """Sant för en nyckel som Django kan ha skapat: minst 8 tecken (Djangos egen kontroll), bara a–z och 0–9."""
        return key is not None and len(key) >= 8 and set(key) <= _KEY_CHARACTERS
