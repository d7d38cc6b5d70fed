"""Sökning efter persondata: finns ett nummer eller en text kvar i databasen, cachen eller loggarna?"""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from typing import Any

from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection


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


def database_text() -> str:
    """Hela databasens innehåll som text: varje rad i varje tabell, och avkodade sessioner."""
    chunks: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            chunks.extend(repr(row) for row in cursor.fetchall())
    chunks.extend(repr(session.get_decoded()) for session in Session.objects.all())
    chunks.extend(_django_q_text())
    return "\n".join(chunks)


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
    return "\n".join(
        decoded(value) for key in client.scan_iter("*") for value in [key, *_redis_values(client, key)]
    )


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

    readings = [raw.decode("utf-8", errors="replace")]
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


def _msgpack(raw: bytes) -> Any:
    """Kanal-lagrets meddelanden (channels_redis packar med msgpack)."""
    import msgpack

    return msgpack.unpackb(raw, raw=False, strict_map_key=False)


def leaks(needles: Iterable[str], **haystacks: str) -> list[str]:
    """Vilka nålar som finns i vilka höstackar (tom lista = inga läckor)."""
    found = []
    for name, haystack in haystacks.items():
        for needle in needles:
            if needle in haystack:
                found.append(f"{needle!r} i {name}")
    return found
