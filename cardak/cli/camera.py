"""`cardak camera simulate`: stream a folder of images over StreamFrames at a set rate."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import grpc
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from cardak.cli.clients import IMAGE_SUFFIXES, Clients, describe_rpc_error, image_files
from cardak.v1 import common_pb2, ingest_pb2


def frames(files: list[Path], camera_id: str, fps: float, loops: int) -> Iterator[ingest_pb2.Frame]:
    """Frames at `fps`, each with a key from camera and capture time, so a resend is no new sighting."""
    interval = 1.0 / fps if fps > 0 else 0.0
    next_at = time.monotonic()
    for _ in range(loops):
        for path in files:
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            next_at += interval
            frame = ingest_pb2.Frame(
                camera_id=camera_id,
                image=path.read_bytes(),
                content_type=IMAGE_SUFFIXES.get(path.suffix.lower(), common_pb2.IMAGE_FORMAT_UNSPECIFIED),
            )
            frame.captured_at.GetCurrentTime()
            frame.idempotency_key = f"{camera_id}:{frame.captured_at.ToNanoseconds()}"
            yield frame


def simulate(*, folder: str, camera_id: str, fps: float, loops: int, console: Console) -> int:
    try:
        files = image_files([folder])
    except ValueError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    clients = Clients.connect()
    counts: Counter[str] = Counter()
    total = len(files) * loops
    try:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[counts]}"), console=console) as progress:
            task = progress.add_task(f"{camera_id} @ {fps:g} fps", total=total, counts="")
            for ack in clients.ingest.StreamFrames(frames(files, camera_id, fps, loops)):
                status = ingest_pb2.FrameStatus.Name(ack.status).removeprefix("FRAME_STATUS_").lower()
                counts[status] += 1
                if ack.error:
                    progress.console.print(f"[yellow]{ack.idempotency_key}:[/] {ack.error}")
                progress.update(task, advance=1, counts=", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    except grpc.RpcError as exc:
        console.print(f"[red]stream ended:[/] {describe_rpc_error(exc, clients.settings.ingest_addr)}")
        return 1
    console.print(f"sent {sum(counts.values())} frame(s): " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    return 0
