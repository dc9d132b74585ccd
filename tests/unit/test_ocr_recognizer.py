"""The plate recogniser's preprocessing, class mapping and decoding, and the synthetic generator.

No trained weights are needed: the network is built fresh (random weights) where one is used.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from services.ocr.recognizer import (
    ENGLISH_G2_CHARACTERS,
    IMG_H,
    MAX_W,
    NUM_CLASSES,
    PLATE_ALPHABET,
    PLATE_CLASS_INDEX,
    PlateRecognizer,
    build_model,
    encode_label,
    greedy_decode,
    normalise_batch,
    output_length,
    resize_line,
    stretch_contrast,
)


def frames(symbols: str, p: float = 0.9) -> np.ndarray:
    """(T, 37) log-probs, one frame per symbol; "-" is the blank."""
    out = np.full((len(symbols), 37), (1 - p) / 36)
    for t, s in enumerate(symbols):
        out[t, 0 if s == "-" else PLATE_ALPHABET.index(s) + 1] = p
    return np.log(out)


def test_class_index_points_at_the_same_characters_in_english_g2() -> None:
    assert NUM_CLASSES == 97
    assert PLATE_CLASS_INDEX[0] == 0
    assert [ENGLISH_G2_CHARACTERS[i - 1] for i in PLATE_CLASS_INDEX[1:]] == list(PLATE_ALPHABET)
    assert encode_label("A0") == [1, 27]


def test_greedy_decode_collapses_repeats_and_keeps_doubles_split_by_blank() -> None:
    text, conf = greedy_decode(frames("--AA-A-7--7"))
    assert text == "AA77"
    assert conf == pytest.approx(0.9**4)
    assert greedy_decode(frames("-----")) == ("", 0.0)


def test_grey_on_grey_line_is_stretched_to_black_on_white() -> None:
    line = np.full((IMG_H, 100), 120, np.uint8)
    line[20:44, 10:90:10] = 90  # dark strokes on a dull plate
    out = stretch_contrast(line)
    assert out.min() == 0 and out.max() == 255
    assert np.all(out[20:44, 10:90:10] == 0) and out[0, 0] == 255
    # A blank or barely textured crop has no strokes to bring out; noise is not amplified.
    flat = np.full((IMG_H, 50), 77, np.uint8)
    assert np.array_equal(stretch_contrast(flat), flat)
    noise = (120 + np.random.default_rng(0).integers(0, 8, (IMG_H, 50))).astype(np.uint8)
    assert np.array_equal(stretch_contrast(noise), noise)


def test_resize_and_pad_follow_easyocr() -> None:
    wide = np.full((20, 400), 200, np.uint8)
    assert resize_line(wide).shape == (IMG_H, MAX_W)
    line = np.zeros((IMG_H, 10), np.uint8)
    line[:, -1] = 255
    batch = normalise_batch([line], width=16)
    assert batch.shape == (1, 1, IMG_H, 16)
    assert batch.min() == -1.0
    assert np.all(batch[0, 0, :, 9:] == 1.0)  # last column repeated into the padding


@pytest.mark.parametrize("width", [64, 101, 192, 320])
def test_output_length_matches_the_network(width: int) -> None:
    import torch

    model = build_model().eval()
    with torch.no_grad():
        out = model(torch.zeros(1, 1, IMG_H, width), None)
    assert out.shape == (1, output_length(width), NUM_CLASSES)


def test_recognizer_loads_fp16_weights_and_returns_37_columns(tmp_path) -> None:
    import torch

    path = tmp_path / "w.pth"
    torch.save({k: v.half() for k, v in build_model().state_dict().items()}, path)
    crops = [np.random.default_rng(0).integers(0, 255, (40, w), dtype=np.uint8) for w in (60, 150, 90)]
    logps = PlateRecognizer(path).logits(crops)
    assert [lp.shape for lp in logps] == [(output_length(resize_line(c).shape[1]), 37) for c in crops]
    assert np.allclose(np.exp(logps[1]).sum(axis=1), 1.0, atol=1e-4)


def test_synthetic_lines_are_reproducible_greyscale() -> None:
    from services.ocr.training.synth import random_plate_text, render_plate_line

    rng = random.Random(3)
    labels = [random_plate_text(rng) for _ in range(200)]
    assert all(2 <= len(t) <= 8 and set(t) <= set(PLATE_ALPHABET) for t in labels)
    a = render_plate_line("1ABC234", random.Random(7))
    b = render_plate_line("1ABC234", random.Random(7))
    assert a.dtype == np.uint8 and a.ndim == 2 and np.array_equal(a, b)


def test_real_split_is_by_name_hash() -> None:
    from services.ocr.training.split import is_train_file

    names = [f"ca{i}.png" for i in range(1000)]
    share = sum(map(is_train_file, names)) / len(names)
    assert 0.55 < share < 0.65
    assert is_train_file("ca1.png") == is_train_file("ca1.png")


def test_finetune_runs_and_writes_weights_the_reader_loads(tmp_path) -> None:
    """The training script end to end, a few iterations on synthetic lines only."""
    import json

    from services.ocr.training import finetune

    out = tmp_path / "plate_recognizer.pth"
    with pytest.raises(SystemExit) as done:
        finetune.main(["--out", str(out), "--iterations", "3", "--batch-size", "4", "--synth-val", "8",
                       "--workers", "0", "--threads", "1", "--warmup", "1"])
    assert done.value.code == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["iterations_done"] == 3 and meta["final"] is True
    assert meta["split"]["real_train"] == 0  # no --real-dir: synthetic only
    assert 0.0 <= meta["validation"]["latest"]["synthetic"]["accuracy"] <= 1.0
    recognizer = PlateRecognizer(out)
    (logp,) = recognizer.logits([np.full((40, 120), 200, np.uint8)])
    assert logp.shape[1] == 37


def test_finetune_stops_at_its_time_budget_with_weights_saved(tmp_path) -> None:
    import json

    from services.ocr.training import finetune

    out = tmp_path / "w.pth"
    with pytest.raises(SystemExit) as done:
        finetune.main(["--out", str(out), "--iterations", "100000", "--minutes", "0.05", "--batch-size", "4",
                       "--synth-val", "8", "--workers", "0", "--threads", "1", "--warmup", "1", "--device", "cpu"])
    assert done.value.code == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["final"] is True and 0 < meta["iterations_done"] < 100000
    assert meta["device"] == "cpu"


def test_learning_rate_follows_whichever_budget_runs_out_first() -> None:
    from services.ocr.training.finetune import lr_at

    assert lr_at(0, 1000, 1.0, warmup=10) == pytest.approx(0.1)
    assert lr_at(10, 1000, 1.0, warmup=10) == pytest.approx(1.0)
    assert lr_at(1000, 1000, 1.0, warmup=10) == pytest.approx(0.1)
    # Halfway through the time budget but early in the iterations: halfway down the cosine.
    assert lr_at(20, 1000, 1.0, warmup=10, time_used=0.5) == pytest.approx(0.55)


def test_soup_is_the_mean_of_its_ingredients_and_loads_in_the_reader(tmp_path) -> None:
    import json

    import torch

    from services.ocr.training import soup

    paths = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        path = tmp_path / f"run{seed}.pth"
        torch.save({k: v.half() for k, v in build_model().state_dict().items()}, path)
        path.with_suffix(".json").write_text(json.dumps({"seed": seed}))
        paths.append(path)
    out = tmp_path / "soup.pth"
    soup.main([str(p) for p in paths] + ["--out", str(out)])

    a, b, mean = (torch.load(p, weights_only=True) for p in (*paths, out))
    key = "Prediction.weight"
    assert not torch.equal(a[key], b[key])
    assert torch.allclose(mean[key].float(), (a[key].float() + b[key].float()) / 2, atol=1e-3)
    assert [i["record"]["seed"] for i in json.loads(out.with_suffix(".json").read_text())["soup_of"]] == [1, 2]
    (logp,) = PlateRecognizer(out).logits([np.full((40, 120), 200, np.uint8)])
    assert logp.shape[1] == 37


def test_soup_refuses_networks_of_another_shape() -> None:
    import torch

    from services.ocr.training.soup import average

    small = {"w": torch.zeros(2, 3)}
    with pytest.raises(ValueError, match="w is"):
        average([small, {"w": torch.zeros(3, 3)}])
    with pytest.raises(ValueError, match="other keys"):
        average([small, {"v": torch.zeros(2, 3)}])


def test_glyph_training_runs_and_writes_weights_the_judge_loads(tmp_path) -> None:
    """services.ocr.training.glyphs end to end on a handful of rendered lines standing in for plates."""
    import json

    import cv2

    from services.ocr.glyphs import GlyphEnsemble, GlyphJudge
    from services.ocr.reader import PACKAGED_WEIGHTS
    from services.ocr.training import glyphs
    from services.ocr.training.split import is_train_file
    from services.ocr.training.synth import render_plate_line

    rng = random.Random(5)
    rows = []
    for i, text in enumerate(["7ABC123", "KT5507", "JLM7605", "8XYZ210", "ABC1234", "5NNY092", "CWM3083", "6WHS906"]):
        cv2.imwrite(str(tmp_path / f"p{i}.png"), render_plate_line(text, rng))
        rows.append(f"p{i}.png,ca,{text}")
    (tmp_path / "groundtruth.csv").write_text("\n".join(rows) + "\n")
    names = [f"p{i}.png" for i in range(8)]
    assert any(map(is_train_file, names)) and not all(map(is_train_file, names))  # both splits used

    out = tmp_path / "glyph_classifier.pth"
    glyphs.main(["--real-dir", str(tmp_path), "--out", str(out), "--synthetic", "8", "--epochs", "1", "--threads", "1",
                 "--members", "2"])
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["split"]["real_train_plates"] + meta["split"]["real_val_plates"] == 8
    assert 0.0 <= meta["val_accuracy"] <= 1.0
    assert [len(m["history"]) for m in meta["members"]] == [1, 1]
    assert [m["torch_seed"] for m in meta["members"]] == [11, 12]
    judge = GlyphJudge(out)
    assert isinstance(judge._net, GlyphEnsemble) and len(judge._net.members) == 2
    crop = render_plate_line("7ABC123", random.Random(1))
    (logp,) = PlateRecognizer(PACKAGED_WEIGHTS).logits([crop])
    assert len(judge.log_odds(crop, logp, "7ABC123", ["7A8C123", "7ABC1Z3"])) == 2
