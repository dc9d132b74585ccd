"""Static rules for the sentinel package: dependencies and Lua script headers."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import sentinel
from sentinel.lua import script_sources

PACKAGE = Path(sentinel.__file__).parent


# Optional extras, imported lazily inside the one module that offers them.
OPTIONAL = {"metrics.py": {"prometheus_client"}}


def test_imports_only_stdlib_and_redis() -> None:
    for path in PACKAGE.rglob("*.py"):
        allowed = set(sys.stdlib_module_names) | {"redis", "sentinel", "__future__"} | OPTIONAL.get(path.name, set())
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = [node.module.split(".")[0]]
            else:
                continue
            for root in roots:
                assert root in allowed, f"{path.name} imports {root}"


def test_script_headers_document_every_key_and_arg() -> None:
    sources = script_sources()
    assert set(sources) == {
        "enqueue", "take", "ack", "heartbeat", "nack", "fail", "release", "retry_dead", "purge_dead", "list_dead",
    }
    for src in sources.values():
        assert src.text.startswith("--[[")
        header = src.text.split("]]", 1)[0]
        body = src.text.split("]]", 1)[1]
        documented = {int(n) for n in re.findall(r"^\s*KEYS\[(\d+)\]", header, re.M)}
        assert documented == set(range(1, src.num_keys + 1)), src.filename
        used_keys = {int(n) for n in re.findall(r"KEYS\[(\d+)\]", body)}
        assert used_keys <= documented, src.filename
        used_args = {int(n) for n in re.findall(r"ARGV\[(\d+)\]", body)}
        documented_args = {int(n) for n in re.findall(r"ARGV\[(\d+)\]", header)}
        assert used_args <= documented_args, src.filename
        assert "Returns" in header, src.filename
