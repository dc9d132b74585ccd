"""Search at city scale: load N sightings (default 1,000,000) into PostgreSQL, then time the
queries users make, through the store's own repository (query, rows, protobufs).

    python bench/store.py [--rows 1000000] [--database-url URL] [--samples 200] [--reload] [--writes 2000] [--json]

Without --database-url it uses a database `cardak_bench_<rows>` on the server DATABASE_URL names
(else 127.0.0.1:5432), created and loaded on first use and reused after (--reload starts over).
The data: 100 cameras, 30 days, 200,000 distinct plates in US shapes seen with a skewed
frequency (commuters pass daily, most plates once or twice), one read per sighting.
Prints the load rate, p50/p99 per query, and the PostgreSQL plan of each query; then the cost of
a RecordRead (one writer, --writes of them: cars passing 20 cameras, 5 frames each 0.3 s apart)
with tracking on (frames voted into tracks) and off.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import string
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from rich.console import Console  # noqa: E402
from rich.progress import Progress  # noqa: E402
from sqlalchemy import Engine, create_engine, delete, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench._common import percentile, print_table  # noqa: E402
from cardak.v1 import common_pb2, store_pb2  # noqa: E402
from services.store.db import make_engine  # noqa: E402
from services.store.fuzzy import LOOK_ALIKES, plate_key  # noqa: E402
from services.store.models import Camera, PlateRead, Sighting, Track  # noqa: E402
from services.store.repository import SightingRepository, search_query  # noqa: E402
from services.store.schema import upgrade  # noqa: E402

CAMERAS = 100
DAYS = 30
PLATES = 200_000
START = datetime(2026, 10, 1, tzinfo=timezone.utc)
BATCH = 20_000
SHAPES = ("DLLLDDD", "LLLDDDD", "LLLDDD", "DDDLLL", "LLDDDDD")


def make_plates(rng: random.Random, count: int) -> list[str]:
    plates: set[str] = set()
    while len(plates) < count:
        shape = rng.choice(SHAPES)
        plates.add("".join(rng.choice(string.digits if c == "D" else string.ascii_uppercase) for c in shape))
    return sorted(plates)


def bench_url(args: argparse.Namespace) -> str:
    if args.database_url:
        return str(args.database_url)
    server = make_url(os.environ.get("DATABASE_URL") or "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
    name = f"cardak_bench_{args.rows}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists and args.reload:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        if not exists or args.reload:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def load(engine: Engine, rows: int, plates: list[str], rng: random.Random, console: Console) -> float:
    """Insert `rows` sightings with one read each, in batches; rows per second."""
    weights = [1.0 / (1 + i) ** 0.8 for i in range(len(plates))]  # a few plates seen very often
    span = DAYS * 86400
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(insert(Camera), [{"id": f"cam-{c:03d}", "first_seen_at": START, "last_seen_at": now} for c in range(CAMERAS)])
    started = time.perf_counter()
    with Progress(console=console) as progress:
        task = progress.add_task("loading sightings", total=rows)
        for first in range(0, rows, BATCH):
            n = min(BATCH, rows - first)
            chosen = rng.choices(plates, weights, k=n)
            sightings, reads = [], []
            for i, plate in enumerate(chosen):
                sid = f"s{first + i:09d}"
                when = START + timedelta(seconds=rng.random() * span)
                sightings.append({
                    "id": sid, "camera_id": f"cam-{rng.randrange(CAMERAS):03d}", "captured_at": when, "status": 1,
                    "plate": plate, "plate_key": plate_key(plate), "image_ref": f"cardak:blob:{sid}",
                    "created_at": when, "updated_at": when,
                })
                reads.append({"sighting_id": sid, "rank": 0, "text": plate, "confidence": 0.9, "candidates": [[plate, 0.9]],
                              "box_x": 0, "box_y": 0, "box_width": 80, "box_height": 40, "region": "", "raw_text": plate})
            with engine.begin() as conn:
                conn.execute(insert(Sighting), sightings)
                conn.execute(insert(PlateRead), reads)
            progress.update(task, advance=n, description=f"loading sightings ({(first + n) / (time.perf_counter() - started):,.0f}/s)")
    rate = rows / (time.perf_counter() - started)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return rate


def misread(plate: str, rng: random.Random) -> str:
    """`plate` with one or two characters swapped for a look-alike, as a reader might."""
    reverse: dict[str, list[str]] = {}
    for letter, digit in LOOK_ALIKES.items():
        reverse.setdefault(digit, []).append(letter)
        reverse.setdefault(letter, []).append(digit)
    chars = list(plate)
    spots = [i for i, c in enumerate(chars) if c in reverse]
    for i in rng.sample(spots, min(len(spots), rng.choice((1, 2)))):
        chars[i] = rng.choice(reverse[chars[i]])
    return "".join(chars)


def timed(repo: SightingRepository, requests: list[store_pb2.SearchSightingsRequest]) -> tuple[list[float], int]:
    times, found = [], 0
    for request in requests:
        started = time.perf_counter()
        found += len(repo.search(request).sightings)
        times.append((time.perf_counter() - started) * 1000)
    return times, found


def plan(engine: Engine, request: store_pb2.SearchSightingsRequest) -> str:
    """PostgreSQL's plan for the very query the repository runs for `request`."""
    sql = str(search_query(request).compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        return "\n".join(row[0] for row in conn.execute(text("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="default: a cardak_bench_<rows> database on DATABASE_URL's server")
    parser.add_argument("--samples", type=int, default=200, help="timed queries per kind")
    parser.add_argument("--reload", action="store_true", help="drop and load the bench database again")
    parser.add_argument("--writes", type=int, default=2000, help="RecordRead calls timed with tracking on and off; 0 skips")
    parser.add_argument("--json", action="store_true", help="also print one JSON object on the last line")
    args = parser.parse_args()
    console = Console(width=max(Console().width, 160))  # query plans are wide
    rng = random.Random(7)
    url = bench_url(args)
    upgrade(url)
    engine = make_engine(url)
    repo = SightingRepository(engine)
    plates = make_plates(random.Random(1), PLATES)
    with engine.connect() as conn:
        have = conn.scalar(select(func.count()).select_from(Sighting)) or 0
    rate: float | None
    if have == 0:
        rate = load(engine, args.rows, plates, rng, console)
        console.print(f"loaded {args.rows:,} sightings (+{args.rows:,} reads) at {rate:,.0f} sightings/s")
    elif have != args.rows:
        raise SystemExit(f"{url} holds {have:,} sightings, not {args.rows:,}: use --reload or another --database-url")
    else:
        rate = None
        console.print(f"reusing {have:,} sightings already loaded (--reload to load again)")

    with engine.connect() as conn:
        seen = list(conn.scalars(select(Sighting.plate).limit(50_000)))
    cameras = [f"cam-{c:03d}" for c in range(CAMERAS)]
    queries: dict[str, list[store_pb2.SearchSightingsRequest]] = {"exact": [], "fuzzy": [], "camera_window": [], "deep_page": []}
    for _ in range(args.samples):
        queries["exact"].append(store_pb2.SearchSightingsRequest(plate=rng.choice(seen)))
        queries["fuzzy"].append(
            store_pb2.SearchSightingsRequest(plate=misread(rng.choice(seen), rng), plate_match=store_pb2.PLATE_MATCH_FUZZY))
        window = store_pb2.SearchSightingsRequest(camera_id=rng.choice(cameras))
        hour = START + timedelta(hours=rng.randrange(DAYS * 24))
        window.captured_after.FromDatetime(hour)
        window.captured_before.FromDatetime(hour + timedelta(hours=1))
        queries["camera_window"].append(window)
    # Page 100 of a camera's history: follow 99 cursors once (untimed), then time page 100.
    for camera in rng.sample(cameras, min(20, len(cameras))):
        request = store_pb2.SearchSightingsRequest(camera_id=camera, page_size=50)
        for _ in range(99):
            request.page_token = repo.search(request).next_page_token
        queries["deep_page"] += [store_pb2.SearchSightingsRequest(camera_id=camera, page_size=50, page_token=request.page_token)] * (
            args.samples // 20)

    for requests in queries.values():  # warm the caches once, as a running store would be
        timed(repo, requests[:20])
    rows: dict[str, dict[str, float]] = {}
    for name, requests in queries.items():
        times, found = timed(repo, requests)
        rows[name] = {"queries": len(times), "rows_per_query": round(found / len(times), 1),
                      "p50_ms": round(percentile(times, 50), 2), "p99_ms": round(percentile(times, 99), 2)}
    print_table(f"SearchSightings on {args.rows:,} sightings ({engine.dialect.name}), page size 50", rows)
    if engine.dialect.name == "postgresql":
        for name, requests in queries.items():
            console.print(f"[bold]{name}[/]", highlight=False)
            console.print(plan(engine, requests[0]), highlight=False)
    writes: dict[str, dict[str, float]] = {}
    if args.writes:
        for name, gap in (("tracking on", timedelta(seconds=3)), ("tracking off", timedelta(0))):
            writes[name] = timed_writes(engine, gap, args.writes, plates, random.Random(3))
        print_table(f"RecordRead, one writer, on {args.rows:,} sightings ({engine.dialect.name})", writes)
    if args.json:
        print(json.dumps({"rows": args.rows, "load_rows_per_s": round(rate) if rate else None, "database": engine.dialect.name,
                          **rows, "record_read": writes}))
    engine.dispose()


def timed_writes(engine: Engine, track_gap: timedelta, count: int, plates: list[str], rng: random.Random) -> dict[str, float]:
    """`count` RecordRead calls: cars passing 20 cameras, 5 frames 0.3 s apart, one frame in five
    misread by a look-alike (what tracks vote away). New sighting ids and times on every run."""
    repo = SightingRepository(engine, track_gap=track_gap)
    run = time.time_ns()
    times: list[float] = []
    plate = rng.choice(plates)
    started = time.perf_counter()
    for i in range(count):
        car, frame = divmod(i, 5)
        if frame == 0:
            plate = rng.choice(plates)
        read = misread(plate, rng) if rng.random() < 0.2 else plate
        request = store_pb2.RecordReadRequest(sighting_id=f"w{run}-{i}", camera_id=f"write-{car % 20:02d}",
                                              reads=[common_pb2.PlateRead(text=read, confidence=rng.uniform(0.3, 1.0))])
        request.captured_at.FromDatetime(START + timedelta(seconds=run % 10**9 / 1000 + car * 10 + frame * 0.3))
        t0 = time.perf_counter()
        repo.record_read(request)
        times.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    with engine.begin() as conn:  # leave the search data as it was loaded
        conn.execute(delete(Sighting).where(Sighting.id.like(f"w{run}-%")))
        conn.execute(delete(Track).where(Track.camera_id.like("write-%")))
    return {"writes": count, "per_s": round(count / elapsed),
            "p50_ms": round(percentile(times, 50), 2), "p99_ms": round(percentile(times, 99), 2)}


if __name__ == "__main__":
    main()
