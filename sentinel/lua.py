"""Loads the Lua scripts in sentinel/scripts/ and binds them to a redis client.

File names follow ``<command>-<number of keys>.lua``; the key count is enforced at call
time so a Python call can never drift from the script's header.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import redis

_NAME = re.compile(r"^(?P<command>[a-z_]+)-(?P<num_keys>\d+)\.lua$")


@dataclass(frozen=True)
class ScriptSource:
    command: str
    num_keys: int
    filename: str
    text: str


@functools.cache
def script_sources() -> dict[str, ScriptSource]:
    """All bundled scripts by command name."""
    found: dict[str, ScriptSource] = {}
    for entry in resources.files("sentinel").joinpath("scripts").iterdir():
        match = _NAME.match(entry.name)
        if not match:
            continue
        command = match["command"]
        if command in found:
            raise RuntimeError(f"two scripts for command {command!r}")
        found[command] = ScriptSource(command, int(match["num_keys"]), entry.name, entry.read_text("utf-8"))
    return found


class BoundScript:
    """A script registered on one client; EVALSHA with a SCRIPT LOAD fallback (redis-py Script)."""

    def __init__(self, client: redis.Redis, source: ScriptSource) -> None:
        self.source = source
        self._script = client.register_script(source.text)

    def __call__(self, keys: Sequence[str], args: Sequence[Any], client: Any = None) -> Any:
        if len(keys) != self.source.num_keys:
            raise ValueError(f"{self.source.filename} takes {self.source.num_keys} keys, got {len(keys)}")
        return self._script(keys=list(keys), args=list(args), client=client)


class Scripts:
    """One attribute per command, e.g. ``scripts.take(keys, args)``."""

    def __init__(self, client: redis.Redis) -> None:
        sources = script_sources()
        self.enqueue = BoundScript(client, sources["enqueue"])
        self.take = BoundScript(client, sources["take"])
        self.ack = BoundScript(client, sources["ack"])
        self.heartbeat = BoundScript(client, sources["heartbeat"])
        self.nack = BoundScript(client, sources["nack"])
        self.fail = BoundScript(client, sources["fail"])
        self.release = BoundScript(client, sources["release"])
        self.retry_dead = BoundScript(client, sources["retry_dead"])
        self.purge_dead = BoundScript(client, sources["purge_dead"])
        self.list_dead = BoundScript(client, sources["list_dead"])
