"""PostgreSQL-poolen: finns när databasen är PostgreSQL och följer aldrig med in i en forkad process."""

from __future__ import annotations

import multiprocessing
import socket
import time
from multiprocessing.connection import Connection as Pipe
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.db.backends.postgresql.base import DatabaseWrapper

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="bara med PostgreSQL (DATABASE_URL)")


def backend_pid() -> int:
    """Id för den PostgreSQL-process som betjänar den här anslutningen."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def report_backend_pid(pipe: Pipe) -> None:
    """Körs i barnprocessen (som django-q2:s arbetare): skickar sin anslutnings process-id."""
    try:
        pipe.send(backend_pid())
    except Exception as error:  # noqa: BLE001 – felet ska synas i testet, inte försvinna i barnet
        pipe.send(repr(error))
    finally:
        connection.close()


def test_postgresql_uses_a_connection_pool() -> None:
    """Med PostgreSQL går anslutningarna genom Djangos pool (många samtidiga patienter)."""
    assert connection.pool is not None


@pytest.mark.django_db(transaction=True)
def test_forked_worker_gets_its_own_connection() -> None:
    """En forkad process (django-q2) får en egen anslutning, aldrig förälderns ur den ärvda poolen."""
    parent_pid = backend_pid()
    connection.close()  # tillbaka till poolen, som django-q2 gör före fork
    receiver, sender = multiprocessing.get_context("fork").Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(target=report_backend_pid, args=(sender,))
    child.start()
    child.join(timeout=30)
    assert child.exitcode == 0
    child_pid = receiver.recv()
    assert isinstance(child_pid, int), child_pid
    assert child_pid != parent_pid
    # Förälderns pool fungerar fortfarande: ingen av dess anslutningar har tagits av barnet.
    assert backend_pid() != child_pid


def closed_port() -> int:
    """En port på 127.0.0.1 där ingen lyssnar (som en databas som är nere)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.django_db
def test_database_that_is_down_fails_within_the_monitors_time_limit(settings: Any) -> None:
    """En databas som inte svarar ger fel inom övervakningens tidsgräns (10 s), inte efter poolens 30 s.

    Så får /healthz sitt 503 och patienten sin sida "Tekniskt fel" medan övervakaren fortfarande väntar.
    Anslutningen byggs med portalens inställningar (poolen), bara porten är en där ingen lyssnar.
    """
    down = {**settings.DATABASES["default"], "PORT": str(closed_port()), "HOST": "127.0.0.1"}
    down["OPTIONS"] = {**down["OPTIONS"], "pool": {**down["OPTIONS"]["pool"]}}
    wrapper = DatabaseWrapper(down, alias="nere")
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError):
            wrapper.ensure_connection()
    finally:
        wrapper.close_pool()
    assert time.monotonic() - started < 10
