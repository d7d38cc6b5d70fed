"""PostgreSQL-poolen: finns när databasen är PostgreSQL och följer aldrig med in i en forkad process."""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection as Pipe

import pytest
from django.db import connection

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
