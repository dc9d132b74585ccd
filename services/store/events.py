"""Fan-out of sighting changes to live watchers, inside the store process.

Every write goes through this process, so watchers are told without polling the database.
A watcher that falls `buffer` events behind is cut off rather than slowing the writers.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field

from cardak.v1 import store_pb2
from services.common.plates import normalise_plate


@dataclass(eq=False)
class Subscription:
    camera_id: str
    plate: str
    events: queue.Queue[store_pb2.SightingEvent] = field(repr=False)
    alerts_only: bool = False
    overflowed: bool = False

    def wants(self, event: store_pb2.SightingEvent) -> bool:
        if self.alerts_only and event.type != store_pb2.SIGHTING_EVENT_TYPE_ALERT:
            return False
        sighting = event.sighting
        return (not self.camera_id or sighting.camera_id == self.camera_id) and (
            not self.plate or sighting.plate == self.plate
        )


class EventHub:
    def __init__(self, buffer: int = 1000) -> None:
        self._buffer = buffer
        self._lock = threading.Lock()
        self._subscriptions: set[Subscription] = set()

    def subscribe(self, camera_id: str = "", plate: str = "", alerts_only: bool = False) -> Subscription:
        sub = Subscription(camera_id, normalise_plate(plate), queue.Queue(maxsize=self._buffer), alerts_only)
        with self._lock:
            self._subscriptions.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(sub)

    def publish(self, event: store_pb2.SightingEvent) -> None:
        with self._lock:
            subscribers = list(self._subscriptions)
        for sub in subscribers:
            if not sub.wants(event):
                continue
            try:
                sub.events.put_nowait(event)
            except queue.Full:
                sub.overflowed = True
                self.unsubscribe(sub)

    def __len__(self) -> int:
        with self._lock:
            return len(self._subscriptions)
