"""Plate -> VIN through a licensed data provider's HTTP API, under the DPPA.

In the US, the link from a plate to a vehicle comes from state motor-vehicle records, and the
Driver's Privacy Protection Act (18 U.S.C. 2721) allows their use only for the permitted purposes
listed in 2721(b). So this provider is off unless configured, refuses to start without one of
those purposes stated by the operator, and writes every look-up to an append-only audit log
(who asked, when, which plate, for what purpose, through which provider, and what came back)
before and after the request: a record exists even when the process dies mid-request.

The provider is generic: a URL template with `{plate}` and `{region}`, an optional auth header,
and a dotted path to the VIN in the JSON answer (e.g. `data.vehicle.vin` or `results.0.vin`).
A 404, or an answer without a VIN at that path, means the provider does not know the plate.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cardak.v1 import common_pb2
from services.common.errors import InvalidRequest
from services.enrich.provider_http import ProviderHttp, ProviderRejected

# 18 U.S.C. 2721(b)(1)-(14), by the short names an operator writes in CARDAK_PLATE_VIN_PURPOSE.
PERMITTED_PURPOSES = {
    "government": "(b)(1) a government agency carrying out its functions",
    "vehicle-safety": "(b)(2) motor vehicle or driver safety and theft, recalls, emissions, market research by manufacturers",
    "business-verification": "(b)(3) a legitimate business verifying information the individual submitted",
    "legal-proceedings": "(b)(4) a civil, criminal, administrative or arbitral proceeding",
    "research": "(b)(5) research or statistical reports, personal information not published",
    "insurance": "(b)(6) an insurer's claims investigation, anti-fraud, rating or underwriting",
    "towing-notice": "(b)(7) notice to owners of towed or impounded vehicles",
    "private-investigation": "(b)(8) a licensed private investigative agency or security service for a permitted purpose",
    "commercial-driver": "(b)(9) an employer verifying a commercial driver's licence",
    "toll-facility": "(b)(10) operating a private toll transportation facility",
    "individual-consent": "(b)(13) the written consent of the individual the record is about",
    "state-law": "(b)(14) another use authorised by state law related to motor vehicles or public safety",
}


class AuditLog:
    """Append-only JSON lines, flushed and fsynced per record (an audit that can lose its last
    records is not one). Thread-safe within a process; replicas each write their own file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # Opened once at start-up so a log that cannot be written stops the service, not a look-up.
        self._file = open(self.path, "a", encoding="utf-8")

    def write(self, **record: Any) -> None:
        line = json.dumps({"at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), **record}, sort_keys=True)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        with self._lock:
            self._file.close()


class HttpPlateToVin:
    """A PlateProvider answering with the VIN a licensed provider has on record for a plate."""

    def __init__(
        self,
        http: ProviderHttp,
        url_template: str,
        vin_path: str,
        purpose: str,
        operator: str,
        audit: AuditLog,
    ) -> None:
        if purpose not in PERMITTED_PURPOSES:
            raise InvalidRequest(
                "plate-to-VIN look-ups need a DPPA permitted purpose: set CARDAK_PLATE_VIN_PURPOSE to one of "
                + ", ".join(sorted(PERMITTED_PURPOSES))
                + (f" (got {purpose!r})" if purpose else "")
            )
        if not operator:
            raise InvalidRequest("plate-to-VIN look-ups need CARDAK_PLATE_VIN_OPERATOR: who is responsible for them")
        if "{plate}" not in url_template:
            raise InvalidRequest(f"CARDAK_PLATE_VIN_URL must contain {{plate}}; got {url_template!r}")
        self.name = http.name
        self._http = http
        self._url = url_template
        self._path = [part for part in vin_path.split(".") if part]
        self._purpose = purpose
        self._who = f"{operator} via {socket.gethostname()}"
        self._audit = audit

    def lookup(self, plate: str, region: str, requester: str = "") -> common_pb2.VehicleProfile | None:
        url = self._url.format(plate=quote(plate, safe=""), region=quote(region, safe=""))
        entry = {
            "who": self._who, "requester": requester, "plate": plate, "region": region,
            "purpose": self._purpose, "provider": self.name,
        }
        self._audit.write(event="lookup", **entry)
        try:
            answer = self._http.get_json(url)
        except ProviderRejected as exc:
            if exc.status != 404:
                self._audit.write(event="result", outcome=f"refused: HTTP {exc.status}", **entry)
                raise
            answer = None
        except Exception as exc:
            self._audit.write(event="result", outcome=f"failed: {exc}", **entry)
            raise
        vin = _dig(answer, self._path)
        if not isinstance(vin, str) or not vin.strip():
            self._audit.write(event="result", outcome="not found", **entry)
            return None
        self._audit.write(event="result", outcome="found", vin=vin.strip().upper(), **entry)
        return common_pb2.VehicleProfile(
            plate=plate, region=region, vin=vin.strip().upper(), source=self.name, status=common_pb2.PROFILE_STATUS_PARTIAL
        )


def _dig(answer: Any, path: list[str]) -> Any:
    """answer["a"]["b"][0]... along a dotted path; None where the path does not exist."""
    node = answer
    for part in path:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node
