"""Generate the cardak.v1 Python stubs from protos/ with grpcio-tools.

Runs at build time (setup.py) and by hand with `python -m cardak.protogen` after a
.proto file changes. The generated files are never edited or committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
OUT_PACKAGE = ROOT / "cardak" / "v1"


def generate(proto_root: Path = PROTO_ROOT, out_root: Path = ROOT) -> list[Path]:
    """Compile every .proto under proto_root into out_root; return the .proto files compiled."""
    import grpc_tools
    from grpc_tools import protoc

    protos = sorted(proto_root.rglob("*.proto"))
    if not protos:
        raise FileNotFoundError(f"no .proto files under {proto_root}")
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{proto_root}",
        f"-I{well_known}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *(str(p) for p in protos),
    ]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed: " + " ".join(args))
    for package_dir in {out_root / p.relative_to(proto_root).parent for p in protos}:
        (package_dir / "__init__.py").touch()
    return protos


if __name__ == "__main__":
    for proto in generate():
        print(f"generated stubs for {proto.relative_to(ROOT)}")
    sys.exit(0)
