"""Per-camera tokens: when CARDAK_CAMERA_TOKENS_FILE is set, every call to ingest must carry
`authorization: Bearer <token>`, and a token admits frames of its own camera only.

The file holds one `camera_id token` pair per line (# starts a comment); keep it readable by
the service only (a Kubernetes Secret mounted as a file, mode 0400).
"""

from __future__ import annotations

import hmac
from pathlib import Path

import grpc

from services.common.errors import InvalidRequest, PermissionDenied, Unauthenticated


class CameraTokens:
    def __init__(self, path: str | Path) -> None:
        self._tokens: list[tuple[str, str]] = []
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 2:
                raise InvalidRequest(f"{path}:{number}: expected 'camera_id token'")
            self._tokens.append((parts[0], parts[1]))

    def camera(self, context: grpc.ServicerContext) -> str:
        """The camera the call's token belongs to; Unauthenticated without a known token."""
        header = dict(context.invocation_metadata()).get("authorization", "")
        scheme, _, token = str(header).partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("this ingest needs a camera token: send 'authorization: Bearer <token>'")
        for camera_id, known in self._tokens:
            if hmac.compare_digest(known.encode(), token.encode()):
                return camera_id
        raise Unauthenticated("unknown camera token")

    @staticmethod
    def check(camera_id: str, frame_camera: str) -> None:
        if frame_camera != camera_id:
            raise PermissionDenied(f"this token is for camera {camera_id!r}, not {frame_camera!r}")
