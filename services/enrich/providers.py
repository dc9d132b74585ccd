"""Plate providers: each answers a plate with a profile, or None when it does not know it."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Protocol

from cardak.v1 import common_pb2
from services.common.errors import InvalidRequest
from services.common.plates import normalise_plate

FLEET_COLUMNS = ("plate", "region", "vin", "model_year", "make", "model", "body_class", "fuel_type")


class PlateProvider(Protocol):
    name: str

    def lookup(self, plate: str, region: str) -> common_pb2.VehicleProfile | None: ...


class FleetFile:
    """The operator's own vehicles, from a CSV file with a header row of FLEET_COLUMNS
    (only `plate` is required). A row with an empty region matches any region."""

    name = "fleet-file"

    def __init__(self, path: str | Path) -> None:
        self._rows: dict[tuple[str, str], dict[str, str]] = {}
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames or "plate" not in reader.fieldnames:
                raise InvalidRequest(f"{path}: the first row must name the columns, including 'plate'")
            unknown = set(reader.fieldnames) - set(FLEET_COLUMNS)
            if unknown:
                raise InvalidRequest(f"{path}: unknown columns {sorted(unknown)}; known: {', '.join(FLEET_COLUMNS)}")
            for row in reader:
                plate = normalise_plate(row["plate"] or "")
                if plate:
                    self._rows[(plate, (row.get("region") or "").upper())] = row

    def __len__(self) -> int:
        return len(self._rows)

    def lookup(self, plate: str, region: str) -> common_pb2.VehicleProfile | None:
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
