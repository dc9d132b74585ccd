"""Train the glyph classifier: a context-free second opinion on single characters.

    python -m services.ocr.training.glyphs --real-dir /work/shared/data/openalpr-benchmarks/plates \\
        --out services/ocr/weights/glyph_classifier.pth

Why: the sequence network (services.ocr.recognizer) reads a whole line, and where it is unsure of
a character (8/B, 0/D, 5/S, 2/Z) its choice leans on the characters around it and on the
formats it was fine-tuned on. A small CNN that sees one character's window and nothing else
gives an independent opinion on exactly those characters. The network, the window cutting,
the CTC forced alignment and the input normalisation live in services.ocr.glyphs, which the
reader runs, so training and inference cut and scale the windows the same way.

How: the shipped recogniser (services.ocr.reader.PACKAGED_WEIGHTS) reads each labelled line, and
forced alignment of its log-probs to the label puts every character at a CTC frame; a window is
cut around each. Training windows come from the real plates' training split (street-size rows,
services.ocr.training.street_rows, TRAIN_DRAWS per plate, plus AUGMENTED_PER_PLATE fine-tune
crops) and --synthetic rendered lines, each window also cut TRAIN_SHIFTS px off centre.
Validation windows come from street rows of the held-out split (crc32 of the file name, as in
services.ocr.training.finetune), drawn with a fixed seed and never trained on. --members
networks are trained on the same windows, each from its own torch seed, and shipped as one
GlyphEnsemble (their mean log-probabilities): one run's habits on a near-tie are partly luck.
Output: an fp16 state dict at --out and a JSON beside it (same name, .json) with the settings,
sample counts, each member's validation accuracy by epoch and the ensemble's. A run with the same arguments and library versions
reproduces the same windows; training itself runs on the CPU with --threads.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from services.ocr.glyphs import (
    INPUT_H,
    INPUT_W,
    GlyphEnsemble,
    GlyphNet,
    forced_alignment,
    glyph_windows,
    normalise_windows,
)
from services.ocr.reader import PACKAGED_WEIGHTS
from services.ocr.recognizer import PLATE_ALPHABET, PlateRecognizer, resize_line
from services.ocr.training.finetune import Sample, augment_real, load_real, save
from services.ocr.training.street_rows import street_rows
from services.ocr.training.synth import random_plate_text, render_plate_line

TRAIN_DRAWS, VAL_DRAWS = 6, 2  # street-row draws per plate
AUGMENTED_PER_PLATE = 3  # augment_real crops per training plate
TRAIN_SHIFTS = (-3.0, 0.0, 3.0)  # px off the aligned frame's x, in the 64-high line
VAL_SEED = 12345  # fixed, so that runs with any --seed are compared on the same windows
BATCH = 256
CHUNK = 512  # lines aligned per recogniser call


def real_lines(plates: list[Sample], rec: PlateRecognizer, rng: random.Random, draws: int,
               augmented: int = 0) -> Iterator[Sample]:
    """Resized lines of each plate: its street rows, then `augmented` fine-tune crops."""
    for img, label in plates:
        for crop, _ in street_rows(img, label, rec.logits, rng, draws):
            yield resize_line(crop), label
        for _ in range(augmented):
            yield resize_line(augment_real(img, rng)), label


def synthetic_lines(count: int, rng: random.Random) -> Iterator[Sample]:
    for _ in range(count):
        label = random_plate_text(rng)
        yield resize_line(render_plate_line(label, rng)), label


def aligned_windows(rec: PlateRecognizer, lines: Iterable[Sample],
                    shifts: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """(windows (n, 32, 20) uint8, class ids (n,), counts): one window per character and shift,
    characters located by forced alignment; a line whose label cannot be aligned is dropped."""
    xs: list[np.ndarray] = []
    ys: list[int] = []
    counts = {"lines": 0, "unaligned": 0}

    def flush(chunk: list[Sample]) -> None:
        for (line, label), logp in zip(chunk, rec.log_probs([line for line, _ in chunk])):
            frames = forced_alignment(logp, label)
            if frames is None:
                counts["unaligned"] += 1
                continue
            # (chars, shifts, 32, 20) -> each character's shifted windows side by side
            wins = np.stack([glyph_windows(line, frames, s) for s in shifts], axis=1)
            xs.append(wins.reshape(-1, *wins.shape[2:]))
            ys.extend(PLATE_ALPHABET.index(c) for c in label for _ in shifts)

    chunk: list[Sample] = []
    for sample in lines:
        chunk.append(sample)
        counts["lines"] += 1
        if len(chunk) == CHUNK:
            flush(chunk)
            chunk = []
    if chunk:
        flush(chunk)
    x = np.concatenate(xs) if xs else np.empty((0, INPUT_H, INPUT_W), np.uint8)
    counts["windows"] = len(x)
    return x, np.asarray(ys, np.int64), counts


@torch.no_grad()
def accuracy(net: torch.nn.Module, x: np.ndarray, y: np.ndarray, batch: int = 4096) -> float:
    net.eval()
    right = 0
    for i in range(0, len(x), batch):
        right += int((net(normalise_windows(x[i:i + batch])).argmax(1) == torch.from_numpy(y[i:i + batch])).sum())
    return right / max(1, len(x))


def train(net: torch.nn.Module, x: np.ndarray, y: np.ndarray, xv: np.ndarray, yv: np.ndarray,
          epochs: int) -> list[dict[str, Any]]:
    """AdamW under a one-cycle schedule (peak 2e-3), label smoothing 0.05, each batch jittered in
    brightness and contrast and rolled by up to a pixel. Returns each epoch's figures."""
    steps_per_epoch = len(x) // BATCH
    if steps_per_epoch == 0:
        raise SystemExit(f"only {len(x)} training windows: fewer than one batch of {BATCH}")
    opt = torch.optim.AdamW(net.parameters(), 1e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=epochs * steps_per_epoch)
    labels = torch.from_numpy(y)
    history: list[dict[str, Any]] = []
    started = time.time()
    for epoch in range(1, epochs + 1):
        net.train()
        order = torch.randperm(len(x))
        total = 0.0
        for i in range(steps_per_epoch):
            b = order[i * BATCH:(i + 1) * BATCH]
            xb = normalise_windows(x[b.numpy()])
            n = len(b)
            xb = xb * (0.8 + 0.4 * torch.rand(n, 1, 1, 1)) + 0.2 * (torch.rand(n, 1, 1, 1) - 0.5)
            xb = torch.roll(xb, shifts=int(torch.randint(-1, 2, ())), dims=3)
            loss = torch.nn.functional.cross_entropy(net(xb), labels[b], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        figures = {"epoch": epoch, "train_loss": round(total / steps_per_epoch, 4),
                   "val_accuracy": round(accuracy(net, xv, yv), 4), "elapsed_s": round(time.time() - started)}
        history.append(figures)
        print(f"epoch {epoch}/{epochs} loss {figures['train_loss']:.3f} val acc {figures['val_accuracy']:.4f} "
              f"({figures['elapsed_s']}s)", flush=True)
    return history


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real-dir", type=Path, required=True, help="plate crops with groundtruth.csv")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--synthetic", type=int, default=12000, help="synthetic lines rendered for training")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--members", type=int, default=3,
                    help="networks trained on the same windows from seeds --seed, --seed+1, ...; shipped as their mean")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    started = time.time()
    rec = PlateRecognizer(PACKAGED_WEIGHTS)
    train_plates, held_out = load_real(args.real_dir)  # held_out is only ever validated on

    rng = random.Random(args.seed)
    x_real, y_real, real_counts = aligned_windows(
        rec, real_lines(train_plates, rec, rng, TRAIN_DRAWS, AUGMENTED_PER_PLATE), TRAIN_SHIFTS)
    x_syn, y_syn, syn_counts = aligned_windows(
        rec, synthetic_lines(args.synthetic, random.Random(args.seed + 1)), TRAIN_SHIFTS)
    xv, yv, val_counts = aligned_windows(
        rec, real_lines(held_out, rec, random.Random(VAL_SEED), VAL_DRAWS), (0.0,))
    x, y = np.concatenate([x_real, x_syn]), np.concatenate([y_real, y_syn])
    print(f"windows: train {len(x)} (real {len(x_real)}, synthetic {len(x_syn)}), val {len(xv)}; "
          f"plates: train {len(train_plates)}, held out {len(held_out)}", flush=True)

    histories = []
    ensemble = GlyphEnsemble(args.members)
    for k, member in enumerate(ensemble.members):
        torch.manual_seed(args.seed + k)
        member.load_state_dict(GlyphNet().state_dict())  # a fresh start drawn from this member's seed
        print(f"member {k + 1}/{args.members} (torch seed {args.seed + k})", flush=True)
        histories.append(train(member, x, y, xv, yv, args.epochs))
    ensemble_accuracy = accuracy(ensemble, xv, yv)
    print(f"ensemble of {args.members}: val acc {ensemble_accuracy:.4f}", flush=True)
    meta: dict[str, Any] = {
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "aligner": str(PACKAGED_WEIGHTS),
        "recipe": {"train_draws": TRAIN_DRAWS, "augmented_per_plate": AUGMENTED_PER_PLATE,
                   "train_shifts": TRAIN_SHIFTS, "val_draws": VAL_DRAWS, "val_seed": VAL_SEED, "batch": BATCH,
                   "optimiser": "AdamW lr 1e-3 wd 1e-4, OneCycleLR max 2e-3", "label_smoothing": 0.05,
                   "augment": "brightness x0.8-1.2, offset +-0.1, roll +-1 px"},
        "split": {"real_train_plates": len(train_plates), "real_val_plates": len(held_out),
                  "rule": "zlib.crc32(file_name) % 10 < 6 -> train"},
        "samples": {"real_train": real_counts, "synthetic": syn_counts, "val": val_counts},
        "alphabet": PLATE_ALPHABET,
        "members": [{"torch_seed": args.seed + k, "history": h} for k, h in enumerate(histories)],
        "val_accuracy": round(ensemble_accuracy, 4),
        "torch": torch.__version__,
        "elapsed_s": round(time.time() - started),
    }
    save(ensemble, args.out, meta)
    print(f"saved {args.out} and {args.out.with_suffix('.json')}", flush=True)


if __name__ == "__main__":
    main()
