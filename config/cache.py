"""Redis-cachen som ger efter när Redis inte svarar, i stället för att fälla begäran.

Cachen används av django-ratelimit (patientsidornas gräns per IP-adress). Med Djangos
vanliga `RedisCache` blir ett Redis som är nere ett undantag och en felsida: patienten kan
inte svara. Här blir fel från Redis "saknas" (add → False, incr → None, get → standardvärdet,
set → ingenting) med en varning i loggen (utan nyckel eller värde), och med
`RATELIMIT_FAIL_OPEN = True` släpper django-ratelimit då igenom begäran.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _unavailable(operation: str, error: RedisError) -> None:
    """Loggar att Redis inte svarade (bara operationen och feltypen)."""
    logger.warning("Redis svarar inte (%s vid %s): cachen hoppas över", type(error).__name__, operation)


class FailOpenRedisCache(RedisCache):
    """`RedisCache` där ett Redis som är nere ger "saknas" i stället för ett undantag."""

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        """Som RedisCache.add; falskt när Redis inte svarar."""
        try:
            return super().add(key, value, timeout, version)
        except RedisError as error:
            _unavailable("add", error)
            return False

    # Djangos typ lovar int; här ger ett Redis-avbrott None med avsikt (django-ratelimit släpper då igenom).
    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int | None:  # type: ignore[override]
        """Som RedisCache.incr; None när Redis inte svarar (django-ratelimit släpper då igenom)."""
        try:
            return super().incr(key, delta, version)
        except RedisError as error:
            _unavailable("incr", error)
            return None

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        """Som RedisCache.get; standardvärdet när Redis inte svarar."""
        try:
            return super().get(key, default, version)
        except RedisError as error:
            _unavailable("get", error)
            return default

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        """Som RedisCache.set; ingenting när Redis inte svarar."""
        try:
            super().set(key, value, timeout, version)
        except RedisError as error:
            _unavailable("set", error)
