"""Plate providers: each answers a plate with a profile, or None when it does not know it."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Protocol

import yaml

from cardak.v1 import common_pb2
from services.common.errors import InvalidRequest
from services.common.plates import normalise_plate

FLEET_COLUMNS = ("plate", "region", "vin", "model_year", "make", "model", "body_class", "fuel_type")


class PlateProvider(Protocol):
    name: str

    def lookup(self, plate: str, region: str, requester: str = "") -> common_pb2.VehicleProfile | None:
        """The profile for `plate`, None when this provider does not know it. `requester` says
        who asked (for providers that audit); failures raise ProviderUnavailable."""
        ...


class FleetFile:
    """The operator's own vehicles, from a CSV file with a header row of FLEET_COLUMNS, or a
    YAML file holding a list of mappings with those keys (only `plate` is required in either).
    A row with an empty region matches any region."""

    name = "fleet-file"
    local = True  # read from disk: answered before the cache and never cached

    def __init__(self, path: str | Path) -> None:
        self._rows: dict[tuple[str, str], dict[str, str]] = {}
        rows = _yaml_rows(Path(path)) if str(path).endswith((".yaml", ".yml")) else _csv_rows(Path(path))
        for row in rows:
            plate = normalise_plate(row.get("plate") or "")
            if plate:
                self._rows[(plate, (row.get("region") or "").upper())] = row

    def __len__(self) -> int:
        return len(self._rows)

    def vins(self) -> list[str]:
        """VINs of rows that name no make: what a VIN decoder should fill in."""
        return sorted({row["vin"].strip().upper() for row in self._rows.values() if row.get("vin") and not row.get("make")})

    def lookup(self, plate: str, region: str, requester: str = "") -> common_pb2.VehicleProfile | None:
        row = self._rows.get((plate, region.upper())) or self._rows.get((plate, ""))
        if row is None:
            return None
        year = (row.get("model_year") or "").strip()
        return common_pb2.VehicleProfile(
            plate=plate,
            region=(row.get("region") or region).upper(),
            vin=(row.get("vin") or "").strip().upper(),
            model_year=int(year) if year.isdigit() else 0,
            make=(row.get("make") or "").strip(),
            model=(row.get("model") or "").strip(),
            body_class=(row.get("body_class") or "").strip(),
            fuel_type=(row.get("fuel_type") or "").strip(),
            source=self.name,
            status=common_pb2.PROFILE_STATUS_FOUND,
        )


def _check_columns(path: Path, columns: set[str]) -> None:
    if "plate" not in columns:
        raise InvalidRequest(f"{path}: every vehicle needs a 'plate'; known columns: {', '.join(FLEET_COLUMNS)}")
    unknown = columns - set(FLEET_COLUMNS)
    if unknown:
        raise InvalidRequest(f"{path}: unknown columns {sorted(unknown)}; known: {', '.join(FLEET_COLUMNS)}")


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames:
            raise InvalidRequest(f"{path}: the first row must name the columns, including 'plate'")
        _check_columns(path, set(reader.fieldnames))
        return [dict(row) for row in reader]


def _yaml_rows(path: Path) -> list[dict[str, str]]:
    try:
        loaded: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidRequest(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(loaded, list) or not all(isinstance(item, dict) for item in loaded):
        raise InvalidRequest(f"{path}: expected a list of vehicles, each a mapping such as {{plate: ABC123, vin: ...}}")
    rows = []
    for item in loaded:
        _check_columns(path, set(item))
        # YAML reads 2019 as an int and an empty value as None; the CSV path sees strings.
        rows.append({key: "" if value is None else str(value) for key, value in item.items()})
    return rows
