"""`cardak watch` (live lines as sightings and alerts arrive) and `cardak watchlist`."""

from __future__ import annotations

import grpc
from rich.console import Console
from rich.table import Table

from cardak.cli.clients import Clients, describe_rpc_error, track_text, vehicle_text
from cardak.v1 import store_pb2

MATCHES = {"exact": store_pb2.PLATE_MATCH_UNSPECIFIED, "fuzzy": store_pb2.PLATE_MATCH_FUZZY}


def watch(*, camera_id: str, plate: str, alerts_only: bool, console: Console) -> int:
    """One line per event until Ctrl-C; alerts in red with their label."""
    clients = Clients.connect()
    request = store_pb2.WatchSightingsRequest(camera_id=camera_id, plate=plate, alerts_only=alerts_only)
    stream = clients.store.WatchSightings(request)
    what = "alerts" if alerts_only else "sightings"
    scope = " ".join(x for x in (f"camera {camera_id}" if camera_id else "", f"plate {plate.upper()}" if plate else "") if x)
    try:
        stream.initial_metadata()  # the subscription is live from here on
        console.print(f"watching {what}{' of ' + scope if scope else ''}; Ctrl-C stops")
        for event in stream:
            console.print(event_line(event), highlight=False)
    except KeyboardInterrupt:
        stream.cancel()
        return 0
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.CANCELLED:  # type: ignore[attr-defined]
            return 0
        console.print(f"[red]error:[/] {describe_rpc_error(exc, clients.settings.store_addr)}")
        return 1
    return 0


def event_line(event: store_pb2.SightingEvent) -> str:
    s = event.sighting
    when = s.captured_at.ToDatetime().strftime("%Y-%m-%d %H:%M:%S")
    if event.type == store_pb2.SIGHTING_EVENT_TYPE_ALERT:
        entry = event.alert.entry
        how = "fuzzy" if entry.match == store_pb2.PLATE_MATCH_FUZZY else "exact"
        return f"[bold red]ALERT[/] {when}  {s.camera_id:<12} {s.plate:<9} matches {entry.plate} ({how}): {entry.label}  [dim]{s.sighting_id}[/]"
    kind = "new" if event.type == store_pb2.SIGHTING_EVENT_TYPE_CREATED else "upd"
    confidence = f"{s.reads[0].confidence:.2f}" if s.reads else "    "
    voted = track_text(s)
    track = f"  track {voted}" if voted != "-" else ""
    return f"{kind:<5} {when}  {s.camera_id:<12} {s.plate or '-':<9} {confidence}  {vehicle_text(s)}{track}  [dim]{s.sighting_id}[/]"


def watchlist(action: str, *, plate: str, match: str, label: str, watch_id: int, console: Console) -> int:
    clients = Clients.connect()
    timeout = clients.settings.rpc_timeout_seconds
    try:
        if action == "add":
            entry = clients.store.AddWatch(store_pb2.AddWatchRequest(plate=plate, match=MATCHES[match], label=label), timeout=timeout)
            console.print(f"watching {entry.plate} ({match}) as entry {entry.watch_id}: {entry.label}")
        elif action == "remove":
            entry = clients.store.RemoveWatch(store_pb2.RemoveWatchRequest(watch_id=watch_id), timeout=timeout)
            console.print(f"removed entry {entry.watch_id} ({entry.plate})")
        else:
            entries = clients.store.ListWatches(store_pb2.ListWatchesRequest(), timeout=timeout).entries
            table = Table(title=f"watch list: {len(entries)} plate(s)")
            for column in ("id", "plate", "match", "label", "added (UTC)"):
                table.add_column(column)
            for e in entries:
                table.add_row(
                    str(e.watch_id), e.plate, "fuzzy" if e.match == store_pb2.PLATE_MATCH_FUZZY else "exact",
                    e.label, e.created_at.ToDatetime().strftime("%Y-%m-%d %H:%M"),
                )
            console.print(table)
    except grpc.RpcError as exc:
        console.print(f"[red]error:[/] {describe_rpc_error(exc, clients.settings.store_addr)}")
        return 1
    return 0
