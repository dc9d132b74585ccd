"""Redis connections from a URL, including through Redis Sentinel (HA).

    connect("redis://host:6379/0")                       # plain, as redis-py
    connect("rediss://host:6380/0")                      # TLS
    connect("unix:///run/redis.sock")                    # local socket (e.g. embedded)
    connect("redis+sentinel://s1:26379,s2:26379/mymaster/0")

A Sentinel URL names the sentinels and the monitored service; the client asks the
sentinels for the current master on every (re)connect, so it follows a failover. A
password before the hosts is the master's; `?sentinel_password=...` is the sentinels'.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import redis
from redis.sentinel import Sentinel

SENTINEL_SCHEME = "redis+sentinel"
DEFAULT_SENTINEL_PORT = 26379


def connect(url: str, **options: Any) -> redis.Redis:
    """A client for `url`; `options` go to redis-py (timeouts, retry, ...).

    Payloads are bytes, so decode_responses is forced off.
    """
    options["decode_responses"] = False
    if urlsplit(url).scheme != SENTINEL_SCHEME:
        return redis.Redis.from_url(url, **options)
    hosts, service, db, password, sentinel_password = parse_sentinel_url(url)
    sentinel_kwargs = {"password": sentinel_password} if sentinel_password else {}
    for key in ("socket_timeout", "socket_connect_timeout"):
        if key in options:
            sentinel_kwargs[key] = options[key]
    sentinels = Sentinel(hosts, sentinel_kwargs=sentinel_kwargs)
    return sentinels.master_for(service, db=db, password=password, **options)


def parse_sentinel_url(url: str) -> tuple[list[tuple[str, int]], str, int, str | None, str | None]:
    """(sentinel hosts, service name, db, master password, sentinel password) of a
    redis+sentinel:// URL; ValueError saying what is missing."""
    parts = urlsplit(url)
    if parts.scheme != SENTINEL_SCHEME:
        raise ValueError(f"not a {SENTINEL_SCHEME}:// URL: {url!r}")
    auth, _, hostlist = parts.netloc.rpartition("@")
    password = unquote(auth.partition(":")[2]) or None if auth else None
    hosts = []
    for item in filter(None, hostlist.split(",")):
        host, _, port = item.rpartition(":") if item.count(":") == 1 else (item, "", "")
        hosts.append((host, int(port) if port else DEFAULT_SENTINEL_PORT))
    if not hosts:
        raise ValueError(f"{url!r} names no sentinel host:port")
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise ValueError(f"{url!r} names no service: use redis+sentinel://host:26379/SERVICE[/DB]")
    db = int(path[1]) if len(path) > 1 else 0
    sentinel_password = parse_qs(parts.query).get("sentinel_password", [None])[0]
    return hosts, path[0], db, password, sentinel_password
