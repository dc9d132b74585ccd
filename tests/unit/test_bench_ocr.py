"""The OCR benchmark's ground-truth loading and summary of its misses (pure logic, no model)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.ocr import MISS_KINDS, confusions, load_dataset, miss_kind, paint_over, reencode


@pytest.mark.parametrize(("read", "truth", "kind"), [
    ("", "7ABC123", "nothing read"),
    ("OSG719", "0SG719", "O/0 only"),
    ("AC0MZV", "AC0M7V", "one character misread"),
    ("AC0MZV", "ACOM7V", "one character misread"),  # O/0 aside, Z for 7: still a misread
    ("5853FL", "853FL", "one character more or fewer"),
    ("TA40", "5LTA600", "other"),
    ("THISAREA", "CWM3083", "other"),
])
def test_each_miss_has_one_kind(read: str, truth: str, kind: str) -> None:
    assert miss_kind(read, truth) == kind
    assert kind in MISS_KINDS


def test_confusions_count_the_swapped_characters_of_one_character_misreads() -> None:
    pairs = [("AC0MZV", "AC0M7V"), ("SH0RZX", "SH0R7X"), ("VSG979", "WSG979"), ("OSG719", "0SG719"), ("TA40", "5LTA600")]
    assert confusions(pairs) == {"7>Z": 2, "W>V": 1}


def _image(path: Path) -> None:
    path.write_bytes(b"\xff\xd8 stands in for a JPEG: load_dataset only lists files")


def test_load_dataset_reads_the_csv_format_past_a_header_and_a_bom(tmp_path: Path) -> None:
    _image(tmp_path / "ca1.png")
    _image(tmp_path / "tx2.png")
    (tmp_path / "groundtruth.csv").write_text("\ufefffile,state,plate\nca1.png,ca,7abc-123\ntx2.png,tx,CWM 3083\n")
    items = load_dataset(tmp_path)
    assert [(i.path.name, i.plate, i.region) for i in items] == [("ca1.png", "7ABC123", "CA"), ("tx2.png", "CWM3083", "TX")]


def test_load_dataset_reads_the_txt_format_one_file_per_image(tmp_path: Path) -> None:
    _image(tmp_path / "car1.jpg")
    (tmp_path / "car1.txt").write_text("car1.jpg\t10\t20\t80\t40\t5LTA600\r\n")
    assert [(i.path.name, i.plate, i.box) for i in load_dataset(tmp_path)] == [("car1.jpg", "5LTA600", (10, 20, 80, 40))]


def test_load_dataset_reads_space_separated_labels_and_reports_lines_it_cannot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _image(tmp_path / "car1.jpg")
    _image(tmp_path / "car2.jpg")
    (tmp_path / "car1.txt").write_text("car1.jpg 10 20 80 40 5LTA600\n")
    (tmp_path / "car2.txt").write_text("car2.jpg\t10\t20\t80\n")  # the box and plate cut off
    assert [(i.path.name, i.plate) for i in load_dataset(tmp_path)] == [("car1.jpg", "5LTA600")]
    assert "1 label lines not understood" in capsys.readouterr().err


def test_load_dataset_names_labelled_images_that_are_missing(tmp_path: Path) -> None:
    _image(tmp_path / "ca1.png")
    (tmp_path / "groundtruth.csv").write_text("ca1.png,ca,7ABC123\nca2.png,ca,7ABC124\n")
    with pytest.raises(SystemExit, match="1 of 2 labelled images are missing: ca2.png"):
        load_dataset(tmp_path)


@pytest.mark.parametrize(("scale", "size"), [(0.5, (20, 40)), (1.0, (40, 80)), (2.0, (80, 160))])
def test_reencode_resizes_and_compresses(scale: float, size: tuple[int, int]) -> None:
    # A hard black/white edge: enlarged by copying pixels it would stay two-valued; the cubic
    # enlargement --scale uses (a sharper camera, not a blockier one) passes through the greys.
    edge = np.zeros((40, 80, 3), np.uint8)
    edge[:, 40:] = 255
    out = cv2.imdecode(np.frombuffer(reencode(cv2.imencode(".png", edge)[1].tobytes(), 95, scale), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert out is not None and out.shape == size
    assert out[0, 0] < 20 and out[0, -1] > 235
    greys = np.count_nonzero((out[size[0] // 2] > 20) & (out[size[0] // 2] < 235))
    assert greys >= (2 if scale > 1 else 0)


def test_load_dataset_keeps_a_listed_image_of_any_format(tmp_path: Path) -> None:
    _image(tmp_path / "car1.bmp")
    (tmp_path / "groundtruth.csv").write_text("image,state,plate\ncar1.bmp,ca,7ABC123\n")
    assert [i.path.name for i in load_dataset(tmp_path)] == ["car1.bmp"]


def test_paint_over_blurs_the_plate_past_reading_and_leaves_the_rest() -> None:
    # Black strokes on a white plate (80 x 40 at x 100, y 60) on a grey car with a dark badge.
    photo = np.full((200, 300, 3), 120, np.uint8)
    photo[60:100, 100:180] = 255
    for x in range(106, 176, 12):
        photo[66:94, x : x + 4] = 0
    photo[150:170, 20:40] = 30
    out = cv2.imdecode(np.frombuffer(paint_over(cv2.imencode(".png", photo)[1].tobytes(), [(100, 60, 80, 40)]), np.uint8),
                       cv2.IMREAD_COLOR)
    plate = out[66:94, 106:176].astype(int)
    assert plate.max() - plate.min() < 100  # the strokes (0 on 255) are gone
    assert plate.mean() > 120  # the plate's light face is left
    assert abs(int(out[160, 30].mean()) - 30) < 8 and abs(int(out[10, 280].mean()) - 120) < 8  # the rest as it was
