"""`cardak search`: sightings by plate, camera and time, as a table."""

from __future__ import annotations

from datetime import datetime, timezone

import grpc
from rich.console import Console
from rich.table import Table

from cardak.cli.clients import Clients, describe_rpc_error, track_text, vehicle_text
from cardak.v1 import store_pb2


def parse_time(text: str) -> datetime:
    """An ISO 8601 time; without a zone it is UTC."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


MATCHES = {"exact": store_pb2.PLATE_MATCH_UNSPECIFIED, "prefix": store_pb2.PLATE_MATCH_PREFIX,
           "fuzzy": store_pb2.PLATE_MATCH_FUZZY}


def search(
    *, plate: str, camera_id: str, since: datetime | None, until: datetime | None, limit: int, console: Console,
    match: str = "exact",
) -> int:
    clients = Clients.connect()
    request = store_pb2.SearchSightingsRequest(
        plate=plate, camera_id=camera_id, page_size=min(limit, 500), plate_match=MATCHES[match]
    )
    if since:
        request.captured_after.FromDatetime(since)
    if until:
        request.captured_before.FromDatetime(until)
    found: list[store_pb2.Sighting] = []
    try:
        while len(found) < limit:
            page = clients.store.SearchSightings(request, timeout=clients.settings.rpc_timeout_seconds)
            found.extend(page.sightings)
            if not page.next_page_token:
                break
            request.page_token = page.next_page_token
    except grpc.RpcError as exc:
        console.print(f"[red]error:[/] {describe_rpc_error(exc, clients.settings.store_addr)}")
        return 1
    found = found[:limit]
    how = {"exact": " of", "prefix": " of plates starting with", "fuzzy": " of plates like"}[match]
    table = Table(title=f"{len(found)} sighting(s)" + (f"{how} {plate.upper()}" if plate else ""))
    for column in ("captured (UTC)", "camera", "plate", "confidence", "track vote", "vehicle", "sighting"):
        table.add_column(column)
    for s in found:
        table.add_row(
            s.captured_at.ToDatetime().strftime("%Y-%m-%d %H:%M:%S"),
            s.camera_id,
            s.plate or "-",
            f"{s.reads[0].confidence:.2f}" if s.reads else "",
            track_text(s),
            vehicle_text(s),
            s.sighting_id,
        )
    console.print(table)
    return 0
