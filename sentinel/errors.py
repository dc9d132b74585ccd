"""Exceptions raised by sentinel."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentinel.client import EnqueueResult


class SentinelError(Exception):
    """Base class for sentinel errors."""


class QueueFull(SentinelError):
    """The queue already holds max_depth ready+delayed tasks; nothing was written.

    For enqueue_many, ``results`` is parallel to the payloads: an EnqueueResult for
    each item that went in (or was deduplicated), None for each item refused.
    """

    def __init__(self, queue: str, max_depth: int, results: list[EnqueueResult | None] | None = None) -> None:
        super().__init__(f"queue {queue!r} is full (max_depth={max_depth})")
        self.queue = queue
        self.max_depth = max_depth
        self.results: list[EnqueueResult | None] = results or []


class PermanentError(SentinelError):
    """Raise from a Worker handler to dead-letter the task at once, without retries."""
