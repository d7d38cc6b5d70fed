"""PostgreSQL-poolen i processer som forkas.

Med PostgreSQL använder portalen Djangos anslutningspool (se `DATABASES` i inställningarna).
django-q2 startar sina arbetsprocesser med fork: en pool som följer med in i barnprocessen
delar då föräldrans sockets och saknar sina egna trådar. Barnprocessen glömmer därför den
ärvda poolen (utan att stänga den, det skulle stänga föräldrans anslutningar) och öppnar en
egen vid första frågan.
"""

from __future__ import annotations

import os

from django.db import connections

_registered = False


def forget_inherited_pools() -> None:
    """Släpper (utan att stänga) alla anslutningspooler som barnprocessen ärvt vid fork."""
    for connection in connections.all(initialized_only=True):
        pools = getattr(type(connection), "_connection_pools", None)
        if pools:
            pools.clear()
        # Anslutningen hör till föräldern: barnet får aldrig använda eller stänga den.
        connection.connection = None


def register_fork_handler() -> None:
    """Registrerar `forget_inherited_pools` för varje framtida fork (en gång per process)."""
    global _registered
    if not _registered:
        os.register_at_fork(after_in_child=forget_inherited_pools)
        _registered = True
