"""A store-and-forward spool of frames on disk, oldest first, that survives restarts and power loss.

Every frame the gate lets through is written here before it is sent, and deleted only when
ingest has acknowledged it; a crash, a reboot or a dead link loses nothing already spooled.

Invariants:
- One file per frame, named `<capture time ns>-<sequence>.jpg`, so names sort in capture order.
- A frame becomes visible only complete: it is written to `*.part`, fsynced, renamed, and the
  directory fsynced. A power cut mid-write leaves at most that one `*.part`, which opening the
  spool removes; it never leaves a truncated `*.jpg`.
- The spool never holds more than `max_bytes`: making room deletes the oldest frames, counted
  in `dropped` (a camera that is offline for days keeps its most recent frames).
"""

from __future__ import annotations

import bisect
import os
import threading
from dataclasses import dataclass
from pathlib import Path

SUFFIX = ".jpg"


@dataclass(frozen=True, order=True)
class Spooled:
    captured_ns: int
    seq: int
    path: Path
    size: int

    @property
    def key(self) -> str:
        return self.path.stem


class Spool:
    def __init__(self, directory: str | Path, max_bytes: int) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.dropped = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        for partial in self.dir.glob("*.part"):
            partial.unlink(missing_ok=True)  # cut off mid-write: never acknowledged, never complete
        self._frames: dict[str, Spooled] = {}
        for path in self.dir.glob(f"*{SUFFIX}"):
            parsed = _parse(path)
            if parsed is not None:
                self._frames[parsed.key] = parsed
        # The same frames in capture order: the sender asks for the next one on every frame it
        # sends, so the order is kept as frames come and go rather than sorted on each request.
        self._order: list[Spooled] = sorted(self._frames.values())
        self._bytes = sum(f.size for f in self._frames.values())
        self._seq = max((f.seq for f in self._frames.values()), default=0)

    def put(self, captured_ns: int, jpeg: bytes) -> Spooled:
        """Keep a frame; makes room by dropping the oldest when the spool is full."""
        if len(jpeg) > self.max_bytes:
            raise ValueError(f"a frame of {len(jpeg)} bytes does not fit a spool of {self.max_bytes}")
        with self._lock:
            self._seq += 1
            seq = self._seq
        final = self.dir / f"{captured_ns:020d}-{seq:08d}{SUFFIX}"
        partial = final.with_suffix(".part")
        with open(partial, "wb") as f:
            f.write(jpeg)
            f.flush()
            os.fsync(f.fileno())
        with self._lock:
            while self._bytes + len(jpeg) > self.max_bytes and self._order:
                self._remove(self._order[0])
                self.dropped += 1
            os.replace(partial, final)
            _fsync_dir(self.dir)
            frame = Spooled(captured_ns, seq, final, len(jpeg))
            self._frames[frame.key] = frame
            bisect.insort(self._order, frame)  # an append, unless capture times went backwards
            self._bytes += frame.size
            self._changed.notify_all()
        return frame

    def oldest(self, limit: int, after: Spooled | None = None) -> list[Spooled]:
        """Up to `limit` frames in capture order (after `after`, when given)."""
        with self._lock:
            start = 0 if after is None else bisect.bisect_right(self._order, after)
            return self._order[start:start + limit]

    def read(self, frame: Spooled) -> bytes | None:
        """The frame's bytes; None if it was dropped meanwhile to make room."""
        try:
            return frame.path.read_bytes()
        except FileNotFoundError:
            return None

    def ack(self, key: str) -> bool:
        """Ingest has the frame: forget it. False if it was no longer here."""
        with self._lock:
            frame = self._frames.get(key)
            if frame is None:
                return False
            self._remove(frame)
            self._changed.notify_all()
            return True

    def wait_for_frames(self, timeout: float) -> bool:
        with self._lock:
            if self._frames:
                return True
            self._changed.wait(timeout)
            return bool(self._frames)

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)

    @property
    def bytes(self) -> int:
        with self._lock:
            return self._bytes

    def _remove(self, frame: Spooled) -> None:
        frame.path.unlink(missing_ok=True)
        del self._frames[frame.key]
        del self._order[bisect.bisect_left(self._order, frame)]
        self._bytes -= frame.size


def _parse(path: Path) -> Spooled | None:
    try:
        captured, seq = path.stem.split("-")
        return Spooled(int(captured), int(seq), path, path.stat().st_size)
    except (ValueError, FileNotFoundError):
        return None


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable: the directory entry itself must reach the disk."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
