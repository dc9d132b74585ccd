"""Content-addressed image store on Redis, with a TTL so unread images do not pile up."""

from __future__ import annotations

import hashlib
from typing import cast

import redis


class BlobStore:
    def __init__(self, client: redis.Redis, namespace: str, ttl_seconds: int) -> None:
        self._redis = client
        self._prefix = f"{namespace}:blob:"
        self._ttl = ttl_seconds

    def put(self, data: bytes) -> str:
        """Keep `data` and return its key; the same bytes always get the same key."""
        key = self._prefix + hashlib.sha256(data).hexdigest()
        # NX: a resent frame does not rewrite the bytes, but its TTL is refreshed below.
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(key, data, ex=self._ttl, nx=True)
        pipe.expire(key, self._ttl)
        pipe.execute()
        return key

    def get(self, key: str) -> bytes | None:
        """The bytes under `key`, or None once they have expired."""
        return cast("bytes | None", self._redis.get(key))  # the client does not decode

    def delete(self, keys: list[str]) -> int:
        """Drop these blobs now (retention) rather than at their TTL; how many there were."""
        owned = [k for k in keys if k.startswith(self._prefix)]
        return int(self._redis.delete(*owned)) if owned else 0
