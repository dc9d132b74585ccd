"""`cardak db upgrade|downgrade|current`: the store's schema migrations (Alembic)."""

from __future__ import annotations

from rich.console import Console
from sqlalchemy.exc import OperationalError

from services.store.db import make_engine
from services.store.schema import current, downgrade, head, upgrade
from services.store.settings import StoreSettings


def database_url(explicit: str | None) -> str:
    return explicit or StoreSettings().database_url


def run(action: str, url: str, revision: str | None, console: Console) -> int:
    shown = make_engine(url).url.render_as_string(hide_password=True)
    try:
        if action == "current":
            at = current(make_engine(url))
            console.print(f"{shown}: revision {at or 'none (empty database)'}; head is {head()}")
            return 0 if at == head() else 3
        if action == "upgrade":
            before, after = upgrade(url, revision or "head")
        else:
            if not revision:
                console.print("[red]error:[/] downgrade needs a revision, e.g. `cardak db downgrade 0001` or `base`")
                return 2
            before, after = downgrade(url, revision)
    except OperationalError as exc:
        console.print(f"[red]error:[/] cannot reach the database {shown}: {exc.orig}")
        return 1
    if before == after:
        console.print(f"{shown}: already at revision {after}")
    else:
        console.print(f"{shown}: {before or 'empty'} -> {after or 'empty'}")
    return 0
