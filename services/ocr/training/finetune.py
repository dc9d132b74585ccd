"""Fine-tune EasyOCR's english_g2 recogniser on plate number lines (CPU-friendly).

    python -m services.ocr.training.finetune --out services/ocr/weights/plate_recognizer.pth \\
        --real-dir /work/shared/data/openalpr-benchmarks/plates --iterations 2000

Synthetic lines come from services.ocr.training.synth, generated on the fly in a DataLoader worker.
Real crops (optional) are split by a hash of the file name: 60% train, 40% validation, and the
validation part is never trained on. Preprocessing and the A-Z0-9 restriction come from
services.ocr.recognizer, so what is trained is exactly what PlateRecognizer runs.

Output: fp16 state dict at --out (loads into easyocr.model.vgg_model.Model with 97 classes) and a
JSON beside it (same name, .json) with settings, split sizes and validation figures. A checkpoint is
written every --checkpoint-minutes and on SIGTERM/Ctrl-C, so a stopped run leaves usable weights.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset

from services.ocr.formats import same_but_o_and_zero
from services.ocr.recognizer import (
    PLATE_ALPHABET,
    batch_log_probs,
    build_model,
    choose_device,
    encode_label,
    greedy_decode,
    load_state_dict,
    normalise_batch,
    output_length,
    resize_line,
    restricted_log_probs,
    stock_english_g2,
)
from services.ocr.training.split import is_train_file, labelled_crops
from services.ocr.training.synth import jpeg_round_trip, random_plate_text, render_plate_line

Sample = tuple[np.ndarray, str]  # (resized uint8 line, label)


# ---------------------------------------------------------------- real plate crops


def load_real(real_dir: Path) -> tuple[list[Sample], list[Sample]]:
    """(train, validation) full-plate greyscale images with labels, split by crc32(file name)."""
    train: list[Sample] = []
    val: list[Sample] = []
    for name, label in labelled_crops(real_dir):
        img = cv2.imread(str(real_dir / name), cv2.IMREAD_GRAYSCALE)
        if img is None:
            continue
        (train if is_train_file(name) else val).append((img, label))
    return train, val


def middle_band(img: np.ndarray) -> np.ndarray:
    """The fixed crop used for validation: the number line and a little of what surrounds it."""
    h = img.shape[0]
    return img[int(0.2 * h) : int(0.85 * h), :]


def augment_real(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """Random middle band of a whole-plate image plus light photometric/geometric jitter."""
    h, w = img.shape
    y0, y1 = int(rng.uniform(0.1, 0.3) * h), int(rng.uniform(0.75, 0.95) * h)
    x0, x1 = int(rng.uniform(0, 0.08) * w), int(rng.uniform(0.92, 1.0) * w)
    crop: np.ndarray = img[y0:y1, x0:x1].astype(np.float32)
    ch, cw = crop.shape
    if rng.random() < 0.5:
        m = cv2.getRotationMatrix2D((cw / 2, ch / 2), rng.uniform(-3, 3), 1.0)
        crop = cv2.warpAffine(crop, m, (cw, ch), borderMode=cv2.BORDER_REPLICATE)
    crop = crop * rng.uniform(0.6, 1.3) + rng.uniform(-40, 40)
    if rng.random() < 0.7:  # shrink: street photos show plates at a quarter of this benchmark's size
        crop = shrink(crop, rng.uniform(0.12, 0.7))
    if rng.random() < 0.3:
        crop = cv2.GaussianBlur(crop, (0, 0), rng.uniform(0.3, 1.2))
    if rng.random() < 0.4:
        crop += rng.uniform(1, 8) * np.random.default_rng(rng.getrandbits(32)).standard_normal(crop.shape)
    out: np.ndarray = np.clip(crop, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        out = jpeg_round_trip(out, rng.randint(30, 90))
    return out


def shrink(img: np.ndarray, scale: float) -> np.ndarray:
    """`img` at `scale` of its size (8 px at least each way), area-averaged like a distant camera."""
    h, w = img.shape[:2]
    return cv2.resize(img, (max(8, int(w * scale)), max(8, int(h * scale))), interpolation=cv2.INTER_AREA)


def held_out_sets(full: list[Sample]) -> tuple[list[Sample], list[Sample]]:
    """The held-out crops as the fine-tune validates them: ("real": the middle band at full size,
    "real_small": the same shrunk to street-photo size)."""
    return [(resize_line(middle_band(img)), label) for img, label in full], shrunk_validation(full)


def shrunk_validation(full: list[Sample], scale: float = 0.25, quality: int = 75) -> list[Sample]:
    """The validation crops at the size a plate has in a street photo (~80 px wide), JPEG-compressed."""
    out = []
    for img, label in full:
        band = middle_band(img)
        out.append((resize_line(jpeg_round_trip(shrink(band, scale), quality)), label))
    return out


# ---------------------------------------------------------------- data


class PlateLines(IterableDataset):
    """Endless collated batches: synthetic lines mixed with augmented real training crops.

    Each worker renders `pool` batches' worth of samples, sorts them by width and cuts them into
    batches, so a batch is padded to a width close to its own lines' (CPU time scales with width).
    """

    def __init__(self, seed: int, real: list[Sample], real_fraction: float, batch_size: int, pool: int = 4) -> None:
        self.seed = seed
        self.real = real
        self.real_fraction = real_fraction if real else 0.0
        self.batch_size = batch_size
        self.pool = pool

    def samples(self, rng: random.Random) -> Iterator[Sample]:
        while True:
            if rng.random() < self.real_fraction:
                img, label = rng.choice(self.real)
                yield resize_line(augment_real(img, rng)), label
            else:
                label = random_plate_text(rng)
                yield resize_line(render_plate_line(label, rng)), label

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        info = torch.utils.data.get_worker_info()
        worker = info.id if info else 0
        cv2.setNumThreads(1)  # the trainer already owns both cores
        rng = random.Random(self.seed * 1009 + worker)
        source = self.samples(rng)
        while True:
            pool = [next(source) for _ in range(self.batch_size * self.pool)]
            pool.sort(key=lambda s: s[0].shape[1])
            batches = [pool[i : i + self.batch_size] for i in range(0, len(pool), self.batch_size)]
            rng.shuffle(batches)
            for batch in batches:
                yield collate(batch)


def collate(batch: list[Sample]) -> dict[str, torch.Tensor]:
    lines = [b[0] for b in batch]
    labels = [b[1] for b in batch]
    return {
        "images": torch.from_numpy(normalise_batch(lines)),
        "targets": torch.tensor([i for t in labels for i in encode_label(t)], dtype=torch.long),
        "target_lengths": torch.tensor([len(t) for t in labels], dtype=torch.long),
        "input_lengths": torch.tensor([output_length(x.shape[1]) for x in lines], dtype=torch.long),
    }


def synthetic_validation(count: int, seed: int) -> list[Sample]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        label = random_plate_text(rng)
        out.append((resize_line(render_plate_line(label, rng)), label))
    return out


# ---------------------------------------------------------------- evaluation


@torch.no_grad()
def evaluate(model: torch.nn.Module, samples: list[Sample], batch_size: int = 64, device: str = "cpu") -> dict[str, Any]:
    """Exact-match accuracy of greedy decoding over already-resized lines."""
    was_training = model.training
    model.eval()
    correct, correct_o0 = 0, 0
    wrong: list[str] = []
    logps = batch_log_probs(model, [line for line, _ in samples], device=device, batch_size=batch_size)
    for logp, (_, label) in zip(logps, samples):
        text, _ = greedy_decode(logp)
        if text == label:
            correct += 1
        if same_but_o_and_zero(text, label):
            correct_o0 += 1
        elif len(wrong) < 8:
            wrong.append(f"{label}->{text}")
    model.train(was_training)
    n = max(1, len(samples))
    return {"accuracy": round(correct / n, 4), "correct": correct, "n": len(samples),
            "accuracy_o_eq_0": round(correct_o0 / n, 4), "examples_wrong": wrong}


# ---------------------------------------------------------------- training


def freeze_early_convs(model: torch.nn.Module, count: int) -> None:
    """Freeze the first `count` conv layers: generic stroke detectors, and the costliest backward on CPU."""
    convs = [m for m in model.get_submodule("FeatureExtraction.ConvNet").children() if isinstance(m, torch.nn.Conv2d)]
    for conv in convs[:count]:
        for p in conv.parameters():
            p.requires_grad_(False)


def save(model: torch.nn.Module, out: Path, meta: dict[str, Any]) -> None:
    """fp16 state dict (half the size; PlateRecognizer upcasts) + JSON, each written atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    state = {k: (v.half() if v.is_floating_point() else v).cpu() for k, v in model.state_dict().items()}
    tmp = out.with_suffix(out.suffix + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, out)
    meta_path = out.with_suffix(".json")
    tmp_meta = meta_path.with_suffix(".json.tmp")
    tmp_meta.write_text(json.dumps(meta, indent=2) + "\n")
    os.replace(tmp_meta, meta_path)


def lr_at(it: int, total: int, peak: float, warmup: int, time_used: float = 0.0) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak, over the iterations or the share of
    the time budget (`time_used`, 0..1) used, whichever runs out first."""
    if it < warmup:
        return peak * (it + 1) / warmup
    progress = max((it - warmup) / max(1, total - warmup), time_used)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--freeze-convs", type=int, default=4, help="first N conv layers kept frozen (0-7)")
    ap.add_argument("--real-dir", type=Path, default=None)
    ap.add_argument("--real-fraction", type=float, default=0.2, help="share of training samples from real crops")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--synth-val", type=int, default=500)
    ap.add_argument("--checkpoint-minutes", type=float, default=8.0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--init", type=Path, default=None, help="start weights (default: EasyOCR english_g2)")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                    help="auto: CUDA when PyTorch sees a GPU (lines are still rendered on the CPU, by --workers)")
    ap.add_argument("--minutes", type=float, default=0.0,
                    help="stop and save after this long even if --iterations are not done (0: no limit)")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    started = time.time()

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    init = args.init or stock_english_g2()
    device = choose_device(args.device)
    model = build_model()
    model.load_state_dict(load_state_dict(init))
    model.to(device)

    real_train: list[Sample] = []
    real_val: list[Sample] = []
    real_small: list[Sample] = []
    if args.real_dir:
        real_train, full_val = load_real(args.real_dir)
        real_val, real_small = held_out_sets(full_val)
    log(f"real split: train={len(real_train)} val={len(real_val)} (crc32(name) % 10 < 6 -> train)")
    synth_val = synthetic_validation(args.synth_val, seed=12345)

    meta: dict[str, Any] = {
        "base_weights": str(init),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "seed": args.seed,
        "split": {"real_train": len(real_train), "real_val": len(real_val), "synthetic_val": len(synth_val),
                  "rule": "zlib.crc32(file_name) % 10 < 6 -> train"},
        "preprocessing": "grey, resize to height 64 (width <= 320), 2-98 percentile contrast stretch, "
                         "(x/255-0.5)/0.5, right-pad last column",
        "alphabet": PLATE_ALPHABET,
        "validation": {},
        "history": [],
        "torch": torch.__version__,
        "device": device,
    }
    init_meta = init.with_suffix(".json")
    if args.init and init_meta.exists():  # a second stage: keep the record of the first
        meta["init_record"] = json.loads(init_meta.read_text())

    def validate() -> dict[str, Any]:
        figures = {"synthetic": evaluate(model, synth_val, device=device)}
        if real_val:
            figures["real"] = evaluate(model, real_val, device=device)
            figures["real_small"] = evaluate(model, real_small, device=device)
        return figures

    baseline = validate()
    meta["validation"]["baseline"] = baseline
    log(f"baseline ({init.name}): " + _fmt(baseline))

    freeze_early_convs(model, args.freeze_convs)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    loader = DataLoader(
        PlateLines(args.seed, real_train, args.real_fraction, args.batch_size),
        batch_size=None,
        num_workers=args.workers,
        prefetch_factor=4 if args.workers else None,
        persistent_workers=bool(args.workers),
        # fork after OpenCV/OpenMP thread pools exist in this process deadlocks the worker.
        multiprocessing_context="spawn" if args.workers else None,
    )

    stop = {"flag": False}

    def on_term(signum: int, frame: Any) -> None:
        stop["flag"] = True

    signal.signal(signal.SIGTERM, on_term)

    def checkpoint(it: int, final: bool = False, evaluate_now: bool = False) -> None:
        if evaluate_now:
            figures = validate()
            meta["history"].append({"iteration": it, **figures})
            meta["validation"]["latest"] = {"iteration": it, **figures}
            log(f"validation @ {it}: " + _fmt(figures))
        meta.update(iterations_done=it, final=final, elapsed_s=round(time.time() - started))
        save(model, args.out, meta)
        log(f"saved {args.out} (iteration {it}{', final' if final else ''})")

    ema = None
    last_ckpt = t0 = time.time()
    it = 0
    time_used = 0.0
    budget_s = max(1.0, args.minutes * 60 - (t0 - started))  # what --minutes leaves for training
    try:
        for batch in loader:
            time_used = (time.time() - t0) / budget_s if args.minutes else 0.0
            if it >= args.iterations or stop["flag"] or time_used >= 1.0:
                break
            batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
            for group in opt.param_groups:
                group["lr"] = lr_at(it, args.iterations, args.lr, args.warmup, time_used)
            logits = model(batch["images"], None)
            logp = restricted_log_probs(logits).permute(1, 0, 2)  # (T, N, 37) for CTCLoss
            loss = ctc(logp, batch["targets"], batch["input_lengths"], batch["target_lengths"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()
            it += 1
            ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
            if it % 10 == 0 or it == 1:
                rate = it / (time.time() - t0)
                eta = (args.iterations - it) / max(rate, 1e-9)
                log(f"it {it}/{args.iterations} loss {loss.item():.3f} (ema {ema:.3f}) "
                    f"lr {opt.param_groups[0]['lr']:.2e} {rate:.2f} it/s ETA {eta / 60:.1f} min")
            if it % args.eval_every == 0 and it < args.iterations:
                checkpoint(it, evaluate_now=True)
                last_ckpt = time.time()
            elif time.time() - last_ckpt > args.checkpoint_minutes * 60:
                checkpoint(it)
                last_ckpt = time.time()
    except KeyboardInterrupt:
        log("interrupted")
    final = it >= args.iterations or time_used >= 1.0
    checkpoint(it, final=final, evaluate_now=True)
    log(f"done: {it} iterations in {(time.time() - started) / 60:.1f} min")
    sys.exit(0 if final or stop["flag"] else 1)


def _fmt(figures: dict[str, Any]) -> str:
    parts = []
    for name, f in figures.items():
        parts.append(f"{name} {f['accuracy']:.3f} ({f['correct']}/{f['n']}; O=0: {f['accuracy_o_eq_0']:.3f}) "
                     f"e.g. {', '.join(f['examples_wrong'][:4])}")
    return " | ".join(parts)


if __name__ == "__main__":
    main()
