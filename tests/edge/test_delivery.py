"""The agent and ingest as real processes on loopback: no frame lost or doubled when ingest dies
mid-stream or the agent is killed, the spool's cap, and camera tokens."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.edge.conftest import Ingest, agent_env, start_agent, write_frames
from tests.support import eventually


def _counts(log: Path, message: str = "edge counts") -> dict[str, int] | None:
    lines = [json.loads(line) for line in log.read_text().splitlines() if f'"{message}"' in line]
    return lines[-1] if lines else None


def _in_capture_order(tasks: list) -> bool:  # type: ignore[type-arg]
    times = [t.captured_at.ToNanoseconds() for t in tasks]
    return times == sorted(times)


def test_ingest_killed_mid_stream_every_frame_becomes_one_sighting_in_order(ingest: Ingest, tmp_path: Path) -> None:
    frames = write_frames(tmp_path / "frames", 500)
    ingest.start()
    agent = start_agent(agent_env(ingest, tmp_path / "spool", frames), tmp_path / "agent.log")
    try:
        eventually(lambda: len(ingest.sightings()) >= 150, timeout=60, interval=0.05)
        ingest.kill()  # SIGKILL: acks in flight are lost with it
        at_kill = len(ingest.sightings())
        time.sleep(3)  # the agent keeps capturing into its spool and retries meanwhile
        assert agent.poll() is None, "the agent must ride out the outage"
        ingest.start()
        assert agent.wait(timeout=120) == 0, (tmp_path / "agent.log").read_text()[-2000:]
    finally:
        agent.kill()
    tasks = ingest.sightings()
    assert at_kill < 500
    assert len(tasks) == 500, "every frame exactly once"
    assert len({t.sighting_id for t in tasks}) == 500
    assert {t.camera_id for t in tasks} == {"gate-7"}
    assert _in_capture_order(tasks)
    assert list((tmp_path / "spool").iterdir()) == []
    summary = _counts(tmp_path / "agent.log", "edge agent stopped")
    assert summary is not None and summary["captured"] == 500 and summary["acked"] + summary["duplicate"] >= 500 and summary["reconnects"] >= 1


def test_agent_killed_with_frames_spooled_sends_them_after_restart(ingest: Ingest, tmp_path: Path) -> None:
    frames = write_frames(tmp_path / "frames", 60)
    spool = tmp_path / "spool"
    env = agent_env(ingest, spool, frames)
    agent = start_agent(env, tmp_path / "agent.log")  # ingest is not running yet: all goes to the spool
    eventually(lambda: len(list(spool.glob("*.jpg"))) == 60, timeout=60, interval=0.05)
    agent.send_signal(signal.SIGKILL)
    agent.wait()
    (spool / "99999999999999999999-00000001.part").write_bytes(b"\xff\xd8 half a frame")  # power cut mid-write
    ingest.start()
    empty = tmp_path / "nothing-new"
    empty.mkdir()
    restarted = start_agent(agent_env(ingest, spool, empty), tmp_path / "agent2.log")
    assert restarted.wait(timeout=120) == 0, (tmp_path / "agent2.log").read_text()[-2000:]
    tasks = ingest.sightings()
    assert len(tasks) == 60 and _in_capture_order(tasks)
    assert list(spool.iterdir()) == []


def test_full_spool_drops_the_oldest_frames_counts_them_and_keeps_going(ingest: Ingest, tmp_path: Path) -> None:
    frames = write_frames(tmp_path / "frames", 80)
    size = max(p.stat().st_size for p in frames.iterdir())
    spool = tmp_path / "spool"
    cap_mb = 20 * size * 1.1 / (1024 * 1024)  # room for about 20 frames
    agent = start_agent(agent_env(ingest, spool, frames, CARDAK_EDGE_SPOOL_MAX_MB=str(cap_mb)), tmp_path / "agent.log")
    try:
        counts = eventually(lambda: (c := _counts(tmp_path / "agent.log")) and c["captured"] == 80 and c, timeout=60)
        assert counts["dropped_spool_full"] > 0
        assert agent.poll() is None, "a full spool does not stop the agent"
        files = list(spool.glob("*.jpg"))
        kept, used = len(files), sum(f.stat().st_size for f in files)
        cap = int(cap_mb * 1024 * 1024)
        assert cap - max(f.stat().st_size for f in files) < used <= cap, "full, and never over the cap"
        assert kept < 80
        ingest.start()
        assert agent.wait(timeout=120) == 0
    finally:
        agent.kill()
    tasks = ingest.sightings()
    assert len(tasks) == kept, "the newest frames, each once"
    summary = _counts(tmp_path / "agent.log", "edge agent stopped")
    assert summary is not None and summary["dropped_spool_full"] == 80 - kept


def test_camera_token_is_required_and_bound_to_its_camera(ingest: Ingest, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("# camera token\ngate-7 s3cret-gate\nlobby other-token\n")
    ingest.start(CARDAK_CAMERA_TOKENS_FILE=str(tokens))
    frames = write_frames(tmp_path / "frames", 5)
    spool = tmp_path / "spool"
    wrong = start_agent(agent_env(ingest, spool, frames, CARDAK_EDGE_TOKEN="guess"), tmp_path / "wrong.log")
    eventually(lambda: "UNAUTHENTICATED" in (tmp_path / "wrong.log").read_text(), timeout=60, interval=0.2)
    wrong.send_signal(signal.SIGTERM)
    assert wrong.wait(timeout=30) == 0
    assert ingest.sightings() == [] and len(list(spool.glob("*.jpg"))) == 5  # nothing lost
    right = start_agent(agent_env(ingest, spool, tmp_path / "frames", CARDAK_EDGE_TOKEN="s3cret-gate"), tmp_path / "right.log")
    assert right.wait(timeout=60) == 0
    assert len(ingest.sightings()) == 10  # the 5 kept from before, and the same 5 files captured again


def test_tls_to_ingest(ingest: Ingest, tmp_path: Path) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        capture_output=True, text=True,
    )
    assert made.returncode == 0, made.stderr
    # Mesh's readiness probe speaks plaintext; start ingest directly and wait on the TLS port.
    env = {**ingest.env, "CARDAK_TLS_CERT_FILE": str(cert), "CARDAK_TLS_KEY_FILE": str(key)}
    server = subprocess.Popen([sys.executable, "-m", "services.ingest"], env=env, stdout=open(tmp_path / "ingest.log", "wb"),
                              stderr=subprocess.STDOUT)
    try:
        frames = write_frames(tmp_path / "frames", 10)
        plain = start_agent(agent_env(ingest, tmp_path / "spool", frames), tmp_path / "plain.log")
        eventually(lambda: "stream to ingest broke" in (tmp_path / "plain.log").read_text(), timeout=60, interval=0.2)
        # On a busy machine the first refusal comes before the last frame is captured (CI once saw 15 of 20).
        eventually(lambda: len(list((tmp_path / "spool").glob("*.jpg"))) == 10, timeout=60, interval=0.1)
        plain.send_signal(signal.SIGTERM)
        plain.wait(timeout=30)
        assert ingest.sightings() == []
        secure = start_agent(agent_env(ingest, tmp_path / "spool", frames, CARDAK_EDGE_TLS="true", CARDAK_EDGE_TLS_CA=str(cert)),
                             tmp_path / "secure.log")
        assert secure.wait(timeout=60) == 0, (tmp_path / "secure.log").read_text()[-2000:]
        assert len(ingest.sightings()) == 20  # the 10 spooled by the refused run, and the 10 captured again
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_backpressure_slows_the_agent_and_loses_nothing(ingest: Ingest, tmp_path: Path) -> None:
    ingest.start(CARDAK_OCR_QUEUE_MAX_DEPTH="20")
    frames = write_frames(tmp_path / "frames", 50)
    agent = start_agent(agent_env(ingest, tmp_path / "spool", frames, CARDAK_EDGE_OVERLOAD_SECONDS="0.5"), tmp_path / "agent.log")
    try:
        eventually(lambda: len(ingest.sightings()) >= 20, timeout=60, interval=0.1)
        eventually(lambda: "RESOURCE_EXHAUSTED" in (tmp_path / "agent.log").read_text(), timeout=30, interval=0.1)
        assert agent.poll() is None
        taken = 0
        while agent.poll() is None and taken < 50:  # an OCR worker draining the queue, slowly
            leases = ingest.queues.take("ocr", worker_id="test-worker", count=5, lease_seconds=30)
            for lease in leases:
                ingest.queues.ack(lease)
            taken += len(leases)
            time.sleep(0.2)
        assert agent.wait(timeout=60) == 0
    finally:
        agent.kill()
    summary = _counts(tmp_path / "agent.log", "edge agent stopped")
    assert summary is not None and summary["overloaded"] >= 1 and summary["acked"] == 50
