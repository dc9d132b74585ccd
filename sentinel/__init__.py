"""sentinel: a reliable task queue on Redis.

Invariants, kept by doing every multi-key change in one Lua script (sentinel/scripts/):

* Every task is in exactly one of ready / delayed / leased / dead / done
  (done = task hash deleted after ack).
* A leased task has exactly one live token.
* An ack / nack / fail / heartbeat / release with a stale token changes nothing.

Deadlines use the Redis server clock (TIME inside scripts). See sentinel.client for the
key layout. Imports only the stdlib and redis.
"""

from sentinel.backoff import Backoff
from sentinel.connection import connect
from sentinel.client import Client, DeadTask, EnqueueResult, Lease, QueueStats
from sentinel.errors import PermanentError, QueueFull, SentinelError
from sentinel.sharding import ShardedQueue
from sentinel.worker import Worker

__all__ = [
    "Backoff",
    "Client",
    "DeadTask",
    "EnqueueResult",
    "Lease",
    "PermanentError",
    "QueueFull",
    "QueueStats",
    "SentinelError",
    "ShardedQueue",
    "Worker",
    "connect",
]
