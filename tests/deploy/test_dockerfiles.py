"""Every Dockerfile parses, copies only what exists in the build context (and is not excluded by
.dockerignore), runs as a non-root user, has a health check, and starts a Cardak command."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest
import yaml
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILES = sorted((ROOT / "deploy/docker").glob("*.Dockerfile"))


def ignored(path: str) -> bool:
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines() if p.strip() and not p.startswith("#")]
    return any(fnmatch.fnmatch(path, p) or path.startswith(p.rstrip("/") + "/") for p in patterns)


def test_there_are_the_light_and_ocr_images() -> None:
    assert {p.name for p in DOCKERFILES} == {"light.Dockerfile", "ocr.Dockerfile"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_parses_and_copies_what_exists(dockerfile: Path) -> None:
    parser = DockerfileParser(str(dockerfile))
    instructions = [(i["instruction"], i["value"]) for i in parser.structure]
    stages = [v for k, v in instructions if k == "FROM"]
    assert len(stages) >= 2, "multi-stage: build tools stay out of the final image"
    for kind, value in instructions:
        if kind not in ("COPY", "ADD") or "--from=" in value:
            continue
        *sources, _destination = value.split()
        for source in sources:
            assert (ROOT / source).exists(), f"{dockerfile.name}: COPY {source}: not in the build context"
            assert not ignored(source), f"{dockerfile.name}: COPY {source}: excluded by .dockerignore"
    final = instructions[[k for k, _ in instructions].index("FROM", len(instructions) - 1 - [k for k, _ in instructions][::-1].index("FROM")):]
    assert any(k == "USER" and v.split(":")[0] not in ("root", "0") for k, v in final), "the final stage runs as non-root"
    [healthcheck] = [v for k, v in final if k == "HEALTHCHECK"]
    assert '"cardak", "health"' in healthcheck
    [entrypoint] = [v for k, v in final if k == "ENTRYPOINT"]
    [command] = [v for k, v in final if k == "CMD"]
    assert yaml.safe_load(entrypoint) == ["cardak"] and yaml.safe_load(command)[0] == "serve"
