"""`cardak`: entry point and argument parsing; each command lives in its own module."""

from __future__ import annotations

import argparse
import os
import runpy
import signal
import sys
import threading

from rich.console import Console
from rich.table import Table

from cardak.cli.mesh import SERVICES, Mesh, MeshError, running_mesh_env


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command not in ("up", "demo", "serve", "health", "edge"):
        # Client commands find a mesh that `cardak up` runs here; explicit variables win.
        for name, value in running_mesh_env().items():
            os.environ.setdefault(name, value)
    console = Console()
    sys.exit(args.run(args, console) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cardak", description="Cardak: an event-driven ANPR vehicle indexer.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser("up", help="run the whole mesh on this machine until Ctrl-C")
    up.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for every service to be ready")
    up.set_defaults(run=_up)

    demo = commands.add_parser("demo", help="start the mesh, read the shipped sample image, stop")
    demo.set_defaults(run=_demo)

    edge = commands.add_parser("edge", help="run the edge agent (camera -> gate -> spool -> ingest), configured by CARDAK_EDGE_*")
    edge.set_defaults(run=lambda _a, _c: runpy.run_module("edge", run_name="__main__"))

    serve = commands.add_parser("serve", help="run one service, configured from the environment")
    serve.add_argument("service", choices=SERVICES)
    serve.set_defaults(run=lambda a, _c: runpy.run_module(f"services.{a.service}", run_name="__main__"))

    health = commands.add_parser("health", help="exit 0 when a service reports SERVING (container health checks)")
    health.add_argument("service", nargs="?", help="ingest, ocr, enrich or store (default: $CARDAK_SERVICE)")
    health.add_argument("--timeout", type=float, default=3.0)
    health.set_defaults(run=_health)

    submit = commands.add_parser("submit", help="send images (files or folders) to ingest")
    submit.add_argument("paths", nargs="+", metavar="IMAGE")
    submit.add_argument("--camera", default="cli", help="camera id to submit as (default: cli)")
    submit.add_argument("--wait", action="store_true", help="wait for the reads and print them as a table")
    submit.add_argument("--timeout", type=float, default=120.0, help="seconds --wait waits (default: 120)")
    submit.set_defaults(run=_submit)

    search = commands.add_parser("search", help="search sightings by plate, camera and time")
    search.add_argument("--plate", default="", help="exact plate; case, spaces and dashes ignored")
    search.add_argument("--camera", default="", help="only this camera")
    search.add_argument("--since", help="captured at or after this ISO time (UTC unless a zone is given)")
    search.add_argument("--until", help="captured before this ISO time")
    search.add_argument("--limit", type=int, default=50, help="most rows to show (default: 50)")
    search.add_argument(
        "--match", choices=("exact", "prefix", "fuzzy"), default="exact",
        help="how --plate matches: exact, prefix, or fuzzy (look-alike characters such as O/0, S/5, B/8 count as one)",
    )
    search.set_defaults(run=_search)

    watch = commands.add_parser("watch", help="print sightings and watch-list alerts live as they happen")
    watch.add_argument("--plate", default="", help="only this plate")
    watch.add_argument("--camera", default="", help="only this camera")
    watch.add_argument("--alerts", action="store_true", help="only watch-list alerts")
    watch.set_defaults(run=_watch)

    watchlist = commands.add_parser("watchlist", help="plates to raise alerts for: add, remove, list")
    watchlist_commands = watchlist.add_subparsers(dest="watchlist_command", required=True, metavar="COMMAND")
    add = watchlist_commands.add_parser("add", help="watch for a plate")
    add.add_argument("plate")
    add.add_argument("--label", default="", help="shown with every alert, e.g. 'stolen 2026-11-20'")
    add.add_argument("--fuzzy", action="store_true", help="also match reads with look-alike characters (O/0, S/5, ...)")
    remove = watchlist_commands.add_parser("remove", help="stop watching (by entry id, see `list`)")
    remove.add_argument("watch_id", type=int)
    watchlist_commands.add_parser("list", help="the watch list as a table")
    watchlist.set_defaults(run=_watchlist)

    store = commands.add_parser("store", help="store maintenance")
    store_commands = store.add_subparsers(dest="store_command", required=True, metavar="COMMAND")
    prune = store_commands.add_parser("prune", help="drop old images and delete old sightings (retention)")
    prune.add_argument("--image-days", type=float, help="default: CARDAK_IMAGE_RETENTION_DAYS (30); 0 keeps images")
    prune.add_argument("--sighting-days", type=float, help="default: CARDAK_SIGHTING_RETENTION_DAYS (365); 0 keeps them")
    prune.set_defaults(run=_prune)

    db = commands.add_parser("db", help="the store's database schema: upgrade, downgrade, current")
    db.add_argument("action", choices=("upgrade", "downgrade", "current"))
    db.add_argument("revision", nargs="?", help="target revision (upgrade: default head; downgrade: required, 'base' for none)")
    db.add_argument("--database-url", help="default: DATABASE_URL, else the embedded SQLite file")
    db.set_defaults(run=_db)

    queue = commands.add_parser("queue", help="the mesh's queues: depths, totals, dead letters")
    queue_commands = queue.add_subparsers(dest="queue_command", required=True, metavar="COMMAND")
    stats = queue_commands.add_parser("stats", help="depths and totals per queue")
    stats.add_argument("queues", nargs="*", metavar="QUEUE", help="default: the OCR and enrich queues")
    stats.add_argument("--watch", type=float, default=0.0, metavar="SECONDS", help="refresh every SECONDS")
    stats.set_defaults(run=_queue_stats)
    dead = queue_commands.add_parser("dead", help="list, retry or purge dead-lettered tasks")
    dead.add_argument("action", choices=("list", "retry", "purge"))
    dead.add_argument("queue", metavar="QUEUE")
    dead.add_argument("--id", dest="ids", action="append", default=[], help="retry only this task (repeatable)")
    dead.add_argument("--limit", type=int, default=50, help="most tasks to list (default: 50)")
    dead.add_argument("--yes", action="store_true", help="confirm purge")
    dead.set_defaults(run=_queue_dead)

    camera = commands.add_parser("camera", help="camera tools")
    camera_commands = camera.add_subparsers(dest="camera_command", required=True, metavar="COMMAND")
    simulate = camera_commands.add_parser("simulate", help="stream a folder of images over StreamFrames")
    simulate.add_argument("--dir", required=True, help="folder of .jpg/.png/.webp images")
    simulate.add_argument("--fps", type=float, default=2.0, help="frames per second (default: 2)")
    simulate.add_argument("--camera", default="simulator", help="camera id (default: simulator)")
    simulate.add_argument("--loops", type=int, default=1, help="times to go through the folder (default: 1)")
    simulate.set_defaults(run=_simulate)
    return parser


def _start(mesh: Mesh, console: Console, timeout: float = 300.0) -> bool:
    try:
        with console.status("starting the mesh") as status:
            mesh.start(timeout, progress=lambda msg: status.update(msg))
    except MeshError as exc:
        console.print(f"[red]error:[/] {exc}")
        mesh.stop()
        return False
    return True


def _up(args: argparse.Namespace, console: Console) -> int:
    mesh = Mesh()
    if not _start(mesh, console, args.timeout):
        return 1
    table = Table(title="Cardak is up")
    for column in ("service", "address", "log"):
        table.add_column(column)
    for name in SERVICES:
        table.add_row(name, mesh.addrs[name], str(mesh.log_dir / f"{name}.log"))
    console.print(table)
    console.print(f"Redis: {mesh.env['REDIS_URL']}   database: {mesh.env['DATABASE_URL']}")
    console.print("Try: cardak submit IMAGE --wait   ·   Ctrl-C stops everything")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        if dead := mesh.exited():
            name, code = next(iter(dead.items()))
            console.print(f"[red]{name} exited with code {code}; stopping the mesh[/]\n{mesh.log_tail(name)}")
            mesh.stop()
            return 1
    with console.status("stopping"):
        mesh.stop()
    return 0


def _demo(_args: argparse.Namespace, console: Console) -> int:
    from cardak.cli.submit import submit
    from cardak.samples import SAMPLE_FLEET, SAMPLE_IMAGE

    env = dict(os.environ)
    env.setdefault("CARDAK_FLEET_FILE", str(SAMPLE_FLEET))
    with Mesh(env=env) as mesh:
        if not _start(mesh, console):
            return 1
        console.print("Mesh ready; submitting the sample image.")
        for name, addr in mesh.addrs.items():
            os.environ[f"CARDAK_{name.upper()}_ADDR"] = addr
        return submit([str(SAMPLE_IMAGE)], camera_id="demo", wait=True, timeout=120.0, console=console)


def _health(args: argparse.Namespace, console: Console) -> int:
    from cardak.cli.health import check

    return check(args.service, args.timeout, console)


def _submit(args: argparse.Namespace, console: Console) -> int:
    from cardak.cli.submit import submit

    return submit(args.paths, camera_id=args.camera, wait=args.wait, timeout=args.timeout, console=console)


def _search(args: argparse.Namespace, console: Console) -> int:
    from cardak.cli.search import parse_time, search

    try:
        since = parse_time(args.since) if args.since else None
        until = parse_time(args.until) if args.until else None
    except ValueError as exc:
        console.print(f"[red]error:[/] {exc}; use ISO 8601, e.g. 2026-11-25T08:00")
        return 2
    if args.match != "exact" and not args.plate:
        console.print(f"[red]error:[/] --match {args.match} needs --plate")
        return 2
    return search(
        plate=args.plate, camera_id=args.camera, since=since, until=until, limit=args.limit, match=args.match, console=console
    )


def _watch(args: argparse.Namespace, console: Console) -> int:
    from cardak.cli.watch import watch

    return watch(camera_id=args.camera, plate=args.plate, alerts_only=args.alerts, console=console)


def _watchlist(args: argparse.Namespace, console: Console) -> int:
    from cardak.cli.watch import watchlist

    return watchlist(
        args.watchlist_command, plate=getattr(args, "plate", ""), match="fuzzy" if getattr(args, "fuzzy", False) else "exact",
        label=getattr(args, "label", ""), watch_id=getattr(args, "watch_id", 0), console=console,
    )


def _prune(args: argparse.Namespace, console: Console) -> int:
    from cardak.cli.store import prune_command

    return prune_command(image_days=args.image_days, sighting_days=args.sighting_days, console=console)


def _db(args: argparse.Namespace, console: Console) -> int:
    from cardak.cli import db

    return db.run(args.action, db.database_url(args.database_url), args.revision, console)


def _queue_stats(args: argparse.Namespace, console: Console) -> int:
    from cardak.cli.queue import stats

    return stats(args.queues, watch=args.watch, console=console)


def _queue_dead(args: argparse.Namespace, console: Console) -> int:
    from cardak.cli.queue import dead

    return dead(args.action, args.queue, ids=args.ids, limit=args.limit, yes=args.yes, console=console)


def _simulate(args: argparse.Namespace, console: Console) -> int:
    from cardak.cli.camera import simulate

    return simulate(folder=args.dir, camera_id=args.camera, fps=args.fps, loops=args.loops, console=console)
