"""The `cardak` command as a person runs it, against the running mesh."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cardak.cli.mesh import SERVICES, Mesh
from cardak.samples import SAMPLE_IMAGE, SAMPLE_PLATE
from cardak.samples.render import render_plate_photo, render_two_cars
from tests.support import eventually, free_port

CARDAK = [sys.executable, "-m", "cardak.cli"]


def run(mesh: Mesh | None, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="200")
    if mesh is not None:
        env.update({f"CARDAK_{n.upper()}_ADDR": a for n, a in mesh.addrs.items()})
    else:  # nothing listens on these
        env.update({f"CARDAK_{n.upper()}_ADDR": f"127.0.0.1:{free_port()}" for n in SERVICES})
    return subprocess.run([*CARDAK, *args], capture_output=True, text=True, timeout=timeout, env=env)


def test_submit_wait_prints_plate_vehicle_and_time(mesh: Mesh) -> None:
    done = run(mesh, "submit", str(SAMPLE_IMAGE), "--wait", "--camera", "cli-test")
    assert done.returncode == 0, done.stdout + done.stderr
    row = next(line for line in done.stdout.splitlines() if SAMPLE_IMAGE.name in line)
    assert SAMPLE_PLATE in row and "2015 Honda Civic" in row and "cli-test" in row
    assert row.rstrip(" │").endswith(" s")

    found = run(mesh, "search", "--plate", SAMPLE_PLATE.lower(), "--camera", "cli-test")
    assert found.returncode == 0, found.stderr
    assert "sighting(s) of " + SAMPLE_PLATE in found.stdout
    assert sum(SAMPLE_PLATE in line and "cli-test" in line for line in found.stdout.splitlines()) >= 1


def test_submit_wait_shows_every_car_in_view(mesh: Mesh, tmp_path: Path) -> None:
    photo = tmp_path / "two-cars.jpg"
    photo.write_bytes(render_two_cars("7ABC123", "KT5507", seed=1))
    done = run(mesh, "submit", str(photo), "--wait", "--camera", "cli-two")
    assert done.returncode == 0, done.stdout + done.stderr
    row = next(line for line in done.stdout.splitlines() if photo.name in line)
    assert "7ABC123 +KT5507" in row


def test_submit_a_folder(mesh: Mesh, tmp_path: Path) -> None:
    for i in range(2):
        (tmp_path / f"car{i}.jpg").write_bytes(render_plate_photo(f"FLD{i}23", seed=i, size=(320, 240)))
    (tmp_path / "notes.txt").write_text("not an image, skipped")
    done = run(mesh, "submit", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("queued as sighting") == 2


def test_camera_simulator_streams_a_folder(mesh: Mesh, tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"frame{i}.jpg").write_bytes(render_plate_photo(f"SIM{i}77", seed=i, size=(320, 240)))
    done = run(mesh, "camera", "simulate", "--dir", str(tmp_path), "--fps", "20", "--camera", "sim-test")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sent 3 frame(s): 3 queued" in done.stdout


def test_frames_of_one_car_are_voted_into_one_track(mesh: Mesh, tmp_path: Path) -> None:
    camera = f"track-{free_port()}"
    for i, size in enumerate([(320, 240), (400, 300), (480, 360)]):
        (tmp_path / f"frame{i}.jpg").write_bytes(render_plate_photo("TRK482", seed=10 + i, size=size))
    done = run(mesh, "camera", "simulate", "--dir", str(tmp_path), "--fps", "10", "--camera", camera)
    assert done.returncode == 0, done.stdout + done.stderr

    def voted() -> str | None:
        found = run(mesh, "search", "--camera", camera).stdout
        return found if "TRK482 (3 frames" in found else None

    assert "TRK482 (3 frames, 100%)" in eventually(voted, timeout=90, interval=1.0)


def test_clear_errors_for_a_person(mesh: Mesh, tmp_path: Path) -> None:
    missing = run(mesh, "submit", str(tmp_path / "nope.jpg"))
    assert missing.returncode == 2 and "no such file or folder" in missing.stdout
    empty = run(mesh, "submit", str(tmp_path))
    assert empty.returncode == 2 and "no images" in empty.stdout
    bad_time = run(mesh, "search", "--since", "yesterday")
    assert bad_time.returncode == 2 and "ISO 8601" in bad_time.stdout
    not_image = tmp_path / "fake.jpg"
    not_image.write_bytes(b"definitely not a jpeg")
    rejected = run(mesh, "submit", str(not_image))
    assert rejected.returncode == 1 and "INVALID_ARGUMENT" in rejected.stdout


def test_unreachable_mesh_says_so() -> None:
    done = run(None, "search", "--plate", "ABC123", timeout=60)
    assert done.returncode == 1
    assert "is the mesh running?" in done.stdout


def test_client_commands_find_a_running_mesh_without_variables(mesh: Mesh) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARDAK_") and k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(CARDAK_HOME=str(mesh.home), COLUMNS="200")
    found = subprocess.run([*CARDAK, "search", "--limit", "1"], capture_output=True, text=True, timeout=60, env=env)
    assert found.returncode == 0, found.stdout + found.stderr
    stats = subprocess.run([*CARDAK, "queue", "stats"], capture_output=True, text=True, timeout=60, env=env)
    assert stats.returncode == 0 and mesh.env["CARDAK_NAMESPACE"] in stats.stdout


def test_watchlist_alert_reaches_cardak_watch_and_fuzzy_search_finds_the_plate(mesh: Mesh) -> None:
    look_alike = SAMPLE_PLATE.replace("0", "O").replace("1", "I").replace("5", "S").replace("8", "B").replace("2", "Z")
    assert look_alike != SAMPLE_PLATE
    added = run(mesh, "watchlist", "add", look_alike, "--fuzzy", "--label", "seen at the gate?")
    assert added.returncode == 0, added.stderr
    watch_id = added.stdout.split("as entry ")[1].split(":")[0]
    env = dict(os.environ, COLUMNS="200", **{f"CARDAK_{n.upper()}_ADDR": a for n, a in mesh.addrs.items()})
    watcher = subprocess.Popen([*CARDAK, "watch", "--alerts", "--camera", "alert-test"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert watcher.stdout is not None
        assert "watching alerts of camera alert-test" in watcher.stdout.readline()
        submitted = run(mesh, "submit", str(SAMPLE_IMAGE), "--camera", "alert-test", "--wait")
        assert submitted.returncode == 0, submitted.stderr
        line = watcher.stdout.readline()
        assert "ALERT" in line and SAMPLE_PLATE in line and f"matches {look_alike} (fuzzy): seen at the gate?" in line
    finally:
        watcher.terminate()
        watcher.wait(10)
    found = run(mesh, "search", "--plate", look_alike, "--match", "fuzzy", "--camera", "alert-test")
    assert found.returncode == 0, found.stderr
    assert f"sighting(s) of plates like {look_alike}" in found.stdout
    assert any(SAMPLE_PLATE in line and "alert-test" in line for line in found.stdout.splitlines())
    listed = run(mesh, "watchlist", "list")
    assert look_alike in listed.stdout and "fuzzy" in listed.stdout
    assert run(mesh, "watchlist", "remove", watch_id).returncode == 0
    assert look_alike not in run(mesh, "watchlist", "list").stdout
