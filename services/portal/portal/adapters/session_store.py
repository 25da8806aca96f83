"""Where browser sessions live: Redis, or the process in development.

A session is a small JSON object under a key derived from the cookie's value (its
SHA-256), so a Redis dump does not hand out usable cookies.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any, Protocol

import orjson

from servicekit.redis_client import redis_client

log = logging.getLogger(__name__)


def _key(session_id: str) -> str:
    return "session:" + hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore(Protocol):
    async def load(self, session_id: str) -> dict[str, Any] | None:
        """The session's data, or None when unknown or expired."""

    async def save(self, session_id: str, data: dict[str, Any], ttl_s: int) -> None:
        """Keep the data for `ttl_s` seconds from now."""

    async def delete(self, session_id: str) -> None:
        """Forget the session."""

    async def ping(self) -> None:
        """Raise when the store cannot be used."""

    async def close(self) -> None:
        """Release connections."""


class MemoryStore:
    """Development: sessions in this process only (lost at restart)."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[float, bytes]] = {}

    async def load(self, session_id: str) -> dict[str, Any] | None:
        found = self._data.get(_key(session_id))
        if found is None or found[0] <= time.monotonic():
            return None
        loaded: dict[str, Any] = orjson.loads(found[1])
        return loaded

    async def save(self, session_id: str, data: dict[str, Any], ttl_s: int) -> None:
        self._data[_key(session_id)] = (time.monotonic() + ttl_s, orjson.dumps(data))

    async def delete(self, session_id: str) -> None:
        self._data.pop(_key(session_id), None)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisStore:
    """Redis: every portal replica sees every session."""

    def __init__(self, url: str, prefix: str) -> None:
        # Bounded waits: a Redis that stops answering fails a page, never hangs it.
        self._client = redis_client(url)
        self._prefix = prefix

    async def load(self, session_id: str) -> dict[str, Any] | None:
        raw = await self._client.get(self._prefix + _key(session_id))
        if raw is None:
            return None
        loaded: dict[str, Any] = orjson.loads(raw)
        return loaded

    async def save(self, session_id: str, data: dict[str, Any], ttl_s: int) -> None:
        await self._client.set(self._prefix + _key(session_id), orjson.dumps(data), ex=ttl_s)

    async def delete(self, session_id: str) -> None:
        await self._client.delete(self._prefix + _key(session_id))

    async def ping(self) -> None:
        await self._client.ping()

    async def close(self) -> None:
        await self._client.aclose()


class RedisOrMemoryStore:
    """Development default: Redis while it answers, else the process (logged once)."""

    def __init__(self, url: str, prefix: str) -> None:
        self._redis: RedisStore | None = RedisStore(url, prefix)
        self._memory = MemoryStore()

    async def _store(self) -> SessionStore:
        if self._redis is not None:
            import redis.exceptions

            try:
                await self._redis.ping()
                return self._redis
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
                log.warning(
                    "Redis does not answer: portal sessions stay in this process "
                    "(development only; start Redis or set PORTAL_REDIS_URL)"
                )
                redis_store, self._redis = self._redis, None
                await redis_store.close()
        return self._memory

    async def load(self, session_id: str) -> dict[str, Any] | None:
        return await (await self._store()).load(session_id)

    async def save(self, session_id: str, data: dict[str, Any], ttl_s: int) -> None:
        await (await self._store()).save(session_id, data, ttl_s)

    async def delete(self, session_id: str) -> None:
        await (await self._store()).delete(session_id)

    async def ping(self) -> None:
        await self._store()

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.close()


def open_store(url: str, prefix: str, *, development_fallback: bool) -> SessionStore:
    """The store for a URL (`memory://`: the process)."""
    if url == "memory://":
        return MemoryStore()
    if development_fallback:
        return RedisOrMemoryStore(url, prefix)
    return RedisStore(url, prefix)
