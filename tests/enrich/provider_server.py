"""A real HTTP server on loopback standing in for NHTSA vPIC and a plate-to-VIN provider.

It answers with vPIC's own JSON shape (`Count`, `Message`, `SearchCriteria`, `Results` of flat
records with `Make`, `Model`, `ModelYear`, `BodyClass`, `ErrorCode`, ...) and can be told to
misbehave, one request at a time: be slow, answer 500, answer 429 with Retry-After, send broken
JSON, or drop the connection without answering.

  GET  /api/vehicles/DecodeVinValues/<VIN>?format=json
  POST /api/vehicles/DecodeVINValuesBatch/   (form: format=json, data=VIN;VIN;...)
  GET  /plates/<REGION>/<PLATE>              -> {"data": {"vehicle": {"vin": ...}}} or 404
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlparse

# vPIC records as vPIC answers them for these public VINs (abridged to the fields Cardak reads).
VEHICLES: dict[str, dict[str, str]] = {
    "1HGCM82633A004352": {"Make": "HONDA", "Model": "Accord", "ModelYear": "2003", "BodyClass": "Coupe",
                          "FuelTypePrimary": "Gasoline", "Manufacturer": "AMERICAN HONDA MOTOR CO., INC.",
                          "PlantCountry": "UNITED STATES (USA)", "EngineCylinders": "6", "DisplacementL": "3.0"},
    "5YJSA1E14FF087599": {"Make": "TESLA", "Model": "Model S", "ModelYear": "2015",
                          "BodyClass": "Hatchback/Liftback/Notchback", "FuelTypePrimary": "Electricity",
                          "Manufacturer": "TESLA, INC.", "PlantCity": "FREMONT", "PlantState": "CALIFORNIA"},
    "1FTFW1CT5DFC10312": {"Make": "FORD", "Model": "F-150", "ModelYear": "2013", "BodyClass": "Pickup",
                          "FuelTypePrimary": "Gasoline", "Manufacturer": "FORD MOTOR COMPANY, USA"},
    "JH4KA7561PC008269": {"Make": "ACURA", "Model": "Legend", "ModelYear": "1993", "BodyClass": "Sedan/Saloon",
                          "FuelTypePrimary": "Gasoline", "Manufacturer": "HONDA MOTOR CO., LTD"},
}

# Plate -> VIN records of the stand-in licensed provider.
PLATES: dict[tuple[str, str], str] = {
    ("CA", "7ABC123"): "5YJSA1E14FF087599",
    ("TX", "JLM7605"): "1HGCM82633A004352",
    ("NY", "FRD1234"): "1FTFW1CT5DFC10312",
}


def vpic_record(vin: str, vehicles: dict[str, dict[str, str]] = VEHICLES) -> dict[str, str]:
    known = vehicles.get(vin)
    if known is None:
        return {"VIN": vin, "Make": "", "Model": "", "ModelYear": "", "BodyClass": "",
                "ErrorCode": "8", "ErrorText": "8 - No detailed data available currently"}
    return {"VIN": vin, "ErrorCode": "0",
            "ErrorText": "0 - VIN decoded clean. Check Digit (9th position) is correct", **known}


def vpic_answer(records: list[dict[str, str]], criteria: str) -> dict[str, object]:
    return {"Count": len(records), "Message": "Results returned successfully. NOTE: Any missing decoded values "
            "should be interpreted as NHTSA does not have data on the specific variable.",
            "SearchCriteria": criteria, "Results": records}


class ProviderServer:
    """Start with `with ProviderServer() as server:`; `server.url` is its base URL.

    `server.misbehave(kind, ...)` queues how the next requests are answered, one each:
    ("slow", seconds), ("500",), ("429", retry_after), ("malformed",), ("drop",), ("no-results",).
    `latency` delays every answer (for the benchmark). `requests` lists (method, path) received, `headers` their headers; `plates` and
    `vehicles` are what it knows (PLATES and VEHICLES to start with).
    """

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.requests: list[tuple[str, str]] = []
        self.headers: list[dict[str, str]] = []
        self.plates = dict(PLATES)
        self.vehicles = dict(VEHICLES)
        self._script: deque[tuple[object, ...]] = deque()
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                outer._handle(self, "GET")

            def do_POST(self) -> None:
                outer._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "ProviderServer":
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    def misbehave(self, *step: object) -> None:
        with self._lock:
            self._script.append(step)

    def count(self, prefix: str) -> int:
        with self._lock:
            return sum(1 for _, path in self.requests if path.startswith(prefix))

    def headers_seen(self, name: str) -> list[str]:
        with self._lock:
            return [h[name] for h in self.headers if name in h]

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlparse(handler.path)
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0)) if method == "POST" else b""
        with self._lock:
            self.requests.append((method, url.path))
            self.headers.append(dict(handler.headers.items()))
            step = self._script.popleft() if self._script else ("ok",)
        if self.latency:
            time.sleep(self.latency)
        kind = step[0]
        if kind == "slow":
            time.sleep(float(step[1]))  # type: ignore[arg-type]
        elif kind == "500":
            return self._send(handler, 500, b'{"Message": "An error has occurred."}')
        elif kind == "429":
            return self._send(handler, 429, b"{}", {"Retry-After": str(step[1])})
        elif kind == "malformed":
            return self._send(handler, 200, b'{"Count": 1, "Results": [{"Make": "HON')
        elif kind == "drop":
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return None
        elif kind == "no-results":
            return self._send(handler, 200, b'{"error": "gateway says hello"}')
        status, answer = self._route(method, url.path, parse_qs(body.decode()))
        return self._send(handler, status, json.dumps(answer).encode())

    def _route(self, method: str, path: str, form: dict[str, list[str]]) -> tuple[int, object]:
        parts = [p for p in path.split("/") if p]
        if parts[:3] == ["api", "vehicles", "DecodeVinValues"] and len(parts) == 4:
            return 200, vpic_answer([vpic_record(parts[3].upper(), self.vehicles)], f"VIN:{parts[3]}")
        if parts[:3] == ["api", "vehicles", "DecodeVINValuesBatch"] and method == "POST":
            vins = [entry.split(",")[0].strip().upper() for entry in form.get("data", [""])[0].split(";") if entry.strip()]
            return 200, vpic_answer([vpic_record(v, self.vehicles) for v in vins], "DECODE VIN BATCH")
        if parts[:1] == ["plates"] and len(parts) == 3:
            vin = self.plates.get((parts[1].upper(), parts[2].upper()))
            if vin is None:
                return 404, {"error": "no record"}
            return 200, {"data": {"vehicle": {"vin": vin, "state": parts[1]}}}
        return 404, {"error": f"no route {path}"}

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)
