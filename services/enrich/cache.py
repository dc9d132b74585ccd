"""Provider answers kept in Redis, so a plate seen a hundred times a day costs one look-up.

A found profile is kept for `found_ttl` (vehicles rarely change plates), a not-found answer for
the much shorter `not_found_ttl` (a plate registered yesterday may be known today). Failures are
never cached: they are retried. Values are the VehicleProfile protobuf, keys
`{namespace}:enrich:{kind}:{key}` (kind: "plate" or "vin").
"""

from __future__ import annotations

import redis
from prometheus_client import Counter

from cardak.v1 import common_pb2

LOOKUPS = Counter("cardak_enrich_cache_lookups_total", "Cache look-ups, by kind (plate, vin) and result (hit, miss)", ["kind", "result"])


class ProfileCache:
    def __init__(self, client: redis.Redis, namespace: str, found_ttl: int, not_found_ttl: int) -> None:
        self._client = client
        self._prefix = f"{namespace}:enrich"
        self._found_ttl = found_ttl
        self._not_found_ttl = not_found_ttl

    def get(self, kind: str, key: str) -> common_pb2.VehicleProfile | None:
        raw = self._client.get(f"{self._prefix}:{kind}:{key}")
        LOOKUPS.labels(kind=kind, result="hit" if raw else "miss").inc()
        return common_pb2.VehicleProfile.FromString(raw) if raw else None

    def put(self, kind: str, key: str, profile: common_pb2.VehicleProfile) -> None:
        ttl = self._not_found_ttl if profile.status == common_pb2.PROFILE_STATUS_NOT_FOUND else self._found_ttl
        if ttl > 0:
            self._client.set(f"{self._prefix}:{kind}:{key}", profile.SerializeToString(), ex=ttl)

    def ttl(self, kind: str, key: str) -> int:
        """Seconds left on a cached answer (-2 when there is none): for tests and operators."""
        return int(self._client.ttl(f"{self._prefix}:{kind}:{key}"))
