"""python -m services.store: run the store service."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from cardak.v1 import store_pb2, store_pb2_grpc
from services.common.logs import setup_logging
from services.common.server import api, serve
from services.store.db import make_engine
from services.store.events import EventHub
from services.store.schema import SchemaOutOfDate, require_head
from services.store.repository import SightingRepository
from services.store.servicer import StoreServicer
from services.store.watchlist import WatchList
from services.store.settings import StoreSettings


def main() -> None:
    settings = StoreSettings()
    setup_logging("store", settings.log_level)
    engine = make_engine(settings.database_url)
    servicer = StoreServicer(SightingRepository(engine, timedelta(seconds=settings.track_gap_seconds)), EventHub(settings.watch_buffer), WatchList(engine))

    # Before the port is bound: an orchestrator sees the process exit with the reason.
    try:
        require_head(engine)
    except SchemaOutOfDate as exc:
        raise SystemExit(f"cardak store: {exc}") from None
    except OperationalError as exc:
        raise SystemExit(f"cardak store: cannot reach the database: {exc.orig}") from None

    def start_up() -> tuple[()]:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return ()

    serve(
        settings,
        service="store",
        addr=settings.store_addr,
        apis=[api(store_pb2, "StoreService", store_pb2_grpc.add_StoreServiceServicer_to_server, servicer)],
        start_up=start_up,
    )


if __name__ == "__main__":
    main()
