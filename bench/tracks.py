"""Multi-frame voting: does a track read more plates right than a single frame?

    python bench/tracks.py ../shared/data/openalpr-benchmarks/us-endtoend [--scales 0.7,0.85,1.0] [--quality 85] [--json]

There is no labelled video in the shared data, so each labelled photo is replayed as a car
coming closer: the photo scaled by each of --scales (smallest first), JPEG-encoded at --quality
as an edge node sends it, 0.3 s apart. Every frame is read by the OCR engine (the same
PlateReader as the worker) and recorded through the store's own SightingRepository (a scratch
SQLite file), which groups the frames into tracks and votes. The voted plate of a photo is the
plate of the track its nearest frame ended in.

Frames made from one photo share its blur, angle and lighting, so their errors are more alike
than those of real frames of a passing car: the gain measured here is a lower bound.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

# The repo root instead of bench/, whose queue.py would shadow the stdlib queue module.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench._common import print_table  # noqa: E402
from bench.ocr import load_dataset, reencode  # noqa: E402
from cardak.v1 import store_pb2  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
FRAME_INTERVAL = timedelta(seconds=0.3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--scales", default="0.7,0.85,1.0", help="frame sizes relative to the photo, smallest first")
    parser.add_argument("--quality", type=int, default=85, help="JPEG quality of the frames (the edge node's default)")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    scales = [float(s) for s in args.scales.split(",")]

    from services.ocr.reader import PlateReader
    from services.ocr.settings import OcrSettings
    from services.store.db import make_engine
    from services.store.repository import SightingRepository
    from services.store.schema import upgrade

    items = [i for i in load_dataset(args.dataset) if i.plate][: args.limit or None]
    if not items:
        raise SystemExit(f"{args.dataset}: no labelled photos")
    reader = PlateReader(OcrSettings())
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/tracks.db"
        upgrade(url)
        engine = make_engine(url)
        repo = SightingRepository(engine)
        right_per_scale = [0] * len(scales)
        nearest_right = voted = 0
        console = Console(stderr=True)
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("voted {task.fields[acc]}"), TimeRemainingColumn(), console=console) as progress:
            task = progress.add_task(args.dataset.name, total=len(items), acc="-")
            for n, item in enumerate(items, 1):
                photo = item.path.read_bytes()
                last: store_pb2.Sighting | None = None
                frames_right = []
                for k, scale in enumerate(scales):
                    plates = reader.read(reencode(photo, args.quality, scale)).plates
                    request = store_pb2.RecordReadRequest(
                        sighting_id=f"{item.path.stem}-{k}", camera_id=item.path.stem, reads=[p.as_proto() for p in plates]
                    )
                    request.captured_at.FromDatetime(T0 + k * FRAME_INTERVAL)
                    last = repo.record_read(request).sighting
                    frames_right.append(bool(plates) and plates[0].text == item.plate)
                for k, right in enumerate(frames_right):
                    right_per_scale[k] += right
                nearest_right += frames_right[-1]
                voted += last is not None and last.track.plate == item.plate
                progress.update(task, advance=1, acc=f"{voted / n:.1%}")
        engine.dispose()

    n = len(items)
    summary = {
        "dataset": args.dataset.name,
        "n": n,
        "scales": scales,
        "quality": args.quality,
        "frame_top1": {str(s): round(r / n, 4) for s, r in zip(scales, right_per_scale)},
        "nearest_frame_top1": round(nearest_right / n, 4),
        "voted_top1": round(voted / n, 4),
    }
    print_table(
        f"plates read right on {args.dataset.name} replayed as {len(scales)}-frame approaches (JPEG q{args.quality})",
        {**{f"frame at x{s:g}": {"top-1": summary["frame_top1"][str(s)]} for s in scales},
         "track vote (store)": {"top-1": summary["voted_top1"]}},
    )
    if args.json:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
