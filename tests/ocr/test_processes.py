"""Reads counted in OCR worker processes show on the service's one /metrics endpoint."""

from __future__ import annotations

import multiprocessing

import httpx
import pytest

from services.common.server import _serve_metrics
from tests.support import free_port


def _read_images(count: int) -> None:
    """A worker process's part: what the queue worker records per image read."""
    from services.ocr import metrics
    from services.ocr.reader import ReadResult

    for _ in range(count):
        metrics.observe(ReadResult(plates=[], elapsed_ms=120.0, stages_ms={"localise": 50.0}))


def test_reads_of_every_worker_process_add_up_on_the_metrics_endpoint(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # as share_metrics_between_processes does
    spawn = multiprocessing.get_context("spawn")
    children = [spawn.Process(target=_read_images, args=(n,)) for n in (2, 3)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
        assert child.exitcode == 0

    addr = f"127.0.0.1:{free_port()}"
    _serve_metrics(addr, [])
    text = httpx.get(f"http://{addr}/metrics", timeout=5).text
    assert 'cardak_ocr_images_total{plate="none"} 5.0' in text
    assert "cardak_ocr_read_seconds_count 5.0" in text
    assert 'cardak_ocr_stage_seconds_count{stage="localise"} 5.0' in text
