"""SQLite i inbäddat läge: WAL-journal, så att samtidiga patientsvar inte går förlorade på ett lås."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="bara med SQLite (inbäddat läge)")


def pragma(database: DatabaseWrapper, name: str) -> object:
    """Värdet av en PRAGMA på anslutningen."""
    with database.cursor() as cursor:
        cursor.execute(f"PRAGMA {name}")
        return cursor.fetchone()[0]


def test_sqlite_file_runs_in_wal_mode(tmp_path: Path, django_db_blocker: Any) -> None:
    """En databasfil med portalens inställningar går i WAL-läge (läsare och skrivare väntar inte på
    varandra), med synchronous=NORMAL och 20 s väntan på skrivlåset; WAL-filen syns bredvid."""
    path = tmp_path / "db.sqlite3"
    database = DatabaseWrapper({**connection.settings_dict, "NAME": str(path)}, alias="wal-prov")
    with django_db_blocker.unblock():
        assert pragma(database, "journal_mode") == "wal"
        assert pragma(database, "synchronous") == 1  # NORMAL
        assert pragma(database, "busy_timeout") == 20_000
        with database.cursor() as cursor:
            cursor.execute("CREATE TABLE prov (id INTEGER PRIMARY KEY)")
        assert (tmp_path / "db.sqlite3-wal").exists()
        database.close()
