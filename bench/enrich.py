"""Enrichment look-ups per second: cold (every plate asks the plate -> VIN provider and vPIC over
HTTP, each answering after --latency) and warm (the Redis cache answers), at several
concurrencies. The providers are the loopback stand-in server the tests use.

    python bench/enrich.py [--plates 400] [--latency 0.05] [--threads 1,8,32] [--redis-url URL] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

# The repo root instead of bench/, whose queue.py would shadow the standard library's.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from concurrent.futures import ThreadPoolExecutor  # noqa: E402

import redis  # noqa: E402

from bench._common import percentile, print_table, redis_url  # noqa: E402
from services.enrich.config import build_enricher  # noqa: E402
from services.enrich.enricher import Enricher  # noqa: E402
from services.enrich.settings import EnrichSettings  # noqa: E402
from services.enrich.vin import check_digit  # noqa: E402
from tests.enrich.provider_server import VEHICLES, ProviderServer  # noqa: E402


def fake_fleet(server: ProviderServer, count: int) -> list[str]:
    """`count` plates the stand-in provider knows, each with its own valid VIN vPIC can decode."""
    template = VEHICLES["1HGCM82633A004352"]
    plates = []
    for n in range(count):
        vin = f"1HGCM826X3A{n:06d}"
        vin = vin[:8] + check_digit(vin) + vin[9:]
        plate = f"B{n:06d}"
        server.plates[("CA", plate)] = vin
        server.vehicles[vin] = template
        plates.append(plate)
    return plates


def run(enricher: Enricher, plates: list[str], threads: int) -> tuple[float, list[float]]:
    def one(plate: str) -> float:
        started = time.perf_counter()
        profile = enricher.enrich(plate, "CA")
        if profile.make != "HONDA":
            raise RuntimeError(f"{plate}: unexpected profile {profile}")
        return (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        latencies = list(pool.map(one, plates))
    return time.perf_counter() - started, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plates", type=int, default=400, help="distinct plates per cold run")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds each provider request takes")
    parser.add_argument("--threads", default="1,8,32", help="concurrencies to run, comma-separated")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""), help="default: REDIS_URL, else embedded")
    parser.add_argument("--json", action="store_true", help="also print one JSON object on the last line")
    args = parser.parse_args()

    with redis_url(args.redis_url) as url:
        rows = run_all(args, redis.Redis.from_url(url))
    print_table(f"Enrichment look-ups (providers answer in {args.latency * 1000:g} ms each, Redis cache)", rows)
    if args.json:
        print(json.dumps({"latency_s": args.latency, "plates": args.plates, "runs": rows}))


def run_all(args: argparse.Namespace, client: redis.Redis) -> dict[str, dict[str, float]]:
    rows: dict[str, dict[str, float]] = {}
    with ProviderServer(latency=args.latency) as server, tempfile.TemporaryDirectory() as tmp:
        for threads in [int(t) for t in args.threads.split(",")]:
            settings = EnrichSettings(
                namespace=f"bench-{uuid.uuid4().hex[:8]}",
                vpic_url=f"{server.url}/api",
                plate_vin_url=server.url + "/plates/{region}/{plate}",
                plate_vin_vin_path="data.vehicle.vin",
                plate_vin_purpose="research",
                plate_vin_operator="bench/enrich.py",
                audit_log=f"{tmp}/audit.jsonl",
                vpic_budget_per_minute=0,
                plate_vin_budget_per_minute=0,
            )
            enricher = build_enricher(settings, client)
            plates = fake_fleet(server, args.plates)
            for phase in ("cold", "warm"):
                sent_before = len(server.requests)
                seconds, latencies = run(enricher, plates, threads)
                rows[f"{phase} x{threads}"] = {
                    "threads": threads,
                    "lookups": len(plates),
                    "lookups_per_s": round(len(plates) / seconds, 1),
                    "median_ms": round(statistics.median(latencies), 2),
                    "p99_ms": round(percentile(latencies, 99), 2),
                    "http_requests": len(server.requests) - sent_before,
                }
    client.close()
    return rows


if __name__ == "__main__":
    main()
