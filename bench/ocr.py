"""Plate-reading accuracy and speed on a folder of labelled photos or plate crops.

    python bench/ocr.py ../shared/data/openalpr-benchmarks/us-endtoend [--limit N] [--json]
    python bench/ocr.py ../shared/data/openalpr-benchmarks/plates --split val
    python bench/ocr.py ../shared/data/openalpr-benchmarks/speed     # no labels: timing only
    python bench/ocr.py DIR --reencode 80 | --scale 0.75             # robustness: JPEG, resolution
    python bench/ocr.py DIR --mask-plates                            # no plate in view: reads nothing?

Reads both ground-truth formats of the OpenALPR benchmark folders: `NAME.txt` beside each
`NAME.jpg` (`file<TAB>x<TAB>y<TAB>w<TAB>h<TAB>PLATE`), or one `groundtruth.csv`
(`file,state,PLATE`). Runs the OCR service's engine in-process (the same PlateReader the
worker and OcrService.Recognize use), one image at a time, and prints accuracy (top-1, top-5,
top-1 counting O and 0 as one, per character; the state guess on plate crops), time per
image (median, p95, and the split by stage) and peak memory. Misses are counted by kind (nothing
read, O/0 only, one character misread, one more or fewer, other) with the characters misread,
and listed in a CSV (`--misses`, default bench-out/ocr-misses-<folder>.csv). With --mask-plates
every labelled plate is blurred out first, and a photo counts as read right when nothing is
reported: a real ANPR system reports no plate where there is none, not the sign, grille or
fence behind it (another vehicle's plate in view also counts as a miss).
The engine's settings come from the environment as in the service (CARDAK_MAX_LINES, ...).
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
import json
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

# The repo root instead of bench/, whose queue.py would shadow the stdlib queue module.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from concurrent.futures import ThreadPoolExecutor, as_completed  # noqa: E402 - imports queue

from bench._common import percentile, print_table  # noqa: E402
from cardak.cli.clients import IMAGE_SUFFIXES  # noqa: E402 - what `cardak submit` sends
from services.common.plates import edit_distance, normalise_plate  # noqa: E402
from services.ocr.formats import o_as_zero, same_but_o_and_zero  # noqa: E402
from services.ocr.training.split import is_train_file  # noqa: E402


@dataclass(frozen=True)
class Labelled:
    path: Path
    plate: str
    region: str = ""
    box: tuple[int, int, int, int] | None = None  # the plate's x, y, width, height (NAME.txt labels only)


def load_dataset(folder: Path) -> list[Labelled]:
    """The labelled images of `folder`, in either ground-truth format; unlabelled (plate "") when it
    has neither. A header row is skipped; images the labels name but the folder lacks end the run
    before it starts, named, rather than halfway through it."""
    groundtruth = folder / "groundtruth.csv"
    items = []
    if groundtruth.exists():
        with open(groundtruth, newline="", encoding="utf-8-sig") as f:
            items = [Labelled(folder / row[0].strip(), normalise_plate(row[2]), row[1].strip().upper())
                     for row in csv.reader(f) if len(row) >= 3 and _is_image_name(row[0])]
    else:
        unread = []
        for txt in sorted(folder.glob("*.txt")):
            for line in txt.read_text(encoding="utf-8-sig").splitlines():
                # Tab-separated in the benchmark; a hand-written label may use spaces.
                fields = line.split("\t") if "\t" in line else line.split()
                if len(fields) >= 6 and _is_image_name(fields[0]):
                    items.append(Labelled(folder / fields[0].strip(), normalise_plate(fields[5]), box=_box(fields[1:5])))
                elif fields and _is_image_name(fields[0]):
                    unread.append(f"{txt.name}: {line.strip()!r}")
        if unread:  # an image left out of the figures must not go unnoticed
            print(f"{folder}: {len(unread)} label lines not understood, their images left out "
                  f"(want NAME x y w h PLATE): {'; '.join(unread[:3])}", file=sys.stderr)
    missing = [item.path.name for item in items if not item.path.is_file()]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise SystemExit(f"{folder}: {len(missing)} of {len(items)} labelled images are missing: {shown}")
    if items:
        return items
    # No labels (the speed/ folder): every image, for timing only.
    images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise SystemExit(f"{folder}: no groundtruth.csv, no NAME.txt label files and no images")
    return [Labelled(p, "") for p in images]


def _box(fields: list[str]) -> tuple[int, int, int, int] | None:
    try:
        x, y, w, h = (int(f) for f in fields)
    except ValueError:
        return None
    return x, y, w, h


def _is_image_name(name: str) -> bool:
    """A label row's file field names a file (a header row's "file" or "image" has no suffix).
    Any suffix counts: a listed image of a format left out of IMAGE_SUFFIXES is read, or reported
    missing, never skipped unseen."""
    return bool(Path(name.strip()).suffix)


def reencode(image: bytes, quality: int, scale: float = 1.0) -> bytes:
    """The image decoded and encoded again as a JPEG of `quality` (scaled by `scale` first), as a
    camera or edge node might send it."""
    import cv2
    import numpy as np

    pixels = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
    if pixels is None:
        return image  # the reader reports it undecodable, as it would without --reencode
    if scale != 1:
        # Area averaging is how a sensor of fewer pixels sees the scene; enlarging, it would copy pixels.
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        pixels = cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=interpolation)
    return bytes(cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])[1])


def paint_over(image: bytes, boxes: list[tuple[int, int, int, int]]) -> bytes:
    """The photo with each box (and a margin: the plate's frame, a quarter of its width and half its
    height more) blurred past reading, encoded again as a JPEG of quality 95: the scene as it would
    be with no plate in it. A box blur half the plate's size leaves its light face, not its characters."""
    import cv2
    import numpy as np

    pixels = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
    if pixels is None:
        return image
    for x, y, w, h in boxes:
        x0, y0 = max(0, x - w // 4), max(0, y - h // 2)
        x1, y1 = x + w + w // 4, y + h + h // 2
        region = pixels[y0:y1, x0:x1]
        if region.size:
            pixels[y0:y1, x0:x1] = cv2.blur(region, (max(3, w // 2) | 1, max(3, h // 2) | 1))
    return bytes(cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 95])[1])


def char_accuracy(read: str, truth: str) -> float:
    """1 - edit distance / length of the truth (0 when nothing matches)."""
    return max(0.0, 1 - edit_distance(truth, read) / max(len(truth), 1))


MISS_KINDS = ("nothing read", "O/0 only", "one character misread", "one character more or fewer", "other")


def miss_kind(read: str, truth: str) -> str:
    """What went wrong with a miss, for the summary table: the first of MISS_KINDS that fits."""
    if not read:
        return "nothing read"
    if same_but_o_and_zero(read, truth):
        return "O/0 only"
    # O and 0 count as one here too: the ground truth spells the same glyph both ways.
    if edit_distance(o_as_zero(truth), o_as_zero(read), limit=1) == 1:
        return "one character misread" if len(read) == len(truth) else "one character more or fewer"
    return "other"


def confusions(pairs: list[tuple[str, str]]) -> Counter[str]:
    """"truth>read" character swaps over the misses that differ by one character (O/0 left out)."""
    found: Counter[str] = Counter()
    for read, truth in pairs:
        if miss_kind(read, truth) == "one character misread":
            found.update(f"{t}>{r}" for t, r in zip(truth, read) if o_as_zero(t) != o_as_zero(r))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--limit", type=int, default=0, help="only the first N images")
    parser.add_argument("--misses", type=Path, help="CSV of misses (default bench-out/ocr-misses-<folder>.csv)")
    parser.add_argument("--split", choices=["all", "train", "val"], default="all",
                        help="plate crops only: the fine-tune's training or held-out files (services/ocr/training/split.py)")
    parser.add_argument("--reencode", type=int, default=0, metavar="QUALITY",
                        help="read each image after a JPEG re-encode at this quality (robustness to compression)")
    parser.add_argument("--scale", type=float, default=1.0, metavar="FACTOR",
                        help="read each image resized by FACTOR and re-encoded (at --reencode's quality, else 95): "
                             "robustness to camera resolution")
    parser.add_argument("--mask-plates", action="store_true",
                        help="read each photo with its labelled plates blurred out: top-1 is then the share that reads "
                             "nothing (NAME.txt labels only: they hold the boxes)")
    parser.add_argument("--concurrency", type=int, default=1, metavar="N",
                        help="read N images at once, as the worker does with CARDAK_CONCURRENCY (throughput on a GPU)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.scale <= 0:
        parser.error("--scale must be above 0")

    from services.ocr.reader import PlateReader, ReadResult
    from services.ocr.settings import OcrSettings

    items = load_dataset(args.dataset)
    if args.split != "all":
        items = [i for i in items if is_train_file(i.path.name) == (args.split == "train")]
    boxes: dict[Path, list[tuple[int, int, int, int]]] = {}  # each photo's labelled plates, for --mask-plates
    if args.mask_plates:
        if not items or any(item.box is None for item in items):
            parser.error(f"--mask-plates needs the plate boxes of NAME.txt labels; {args.dataset} has none")
        for item in items:
            boxes.setdefault(item.path, []).append(item.box)  # type: ignore[arg-type]
        items = list({item.path: item for item in items}.values())  # a photo of two plates is one photo
    items = items[: args.limit or None]
    console = Console(stderr=True)
    load_started = time.perf_counter()
    reader = PlateReader(OcrSettings())
    load_s = time.perf_counter() - load_started
    labelled = any(item.plate for item in items)
    top1 = top5 = top1_o0 = 0
    states_labelled = states_guessed = states_right = 0
    chars: list[float] = []
    seconds: list[float] = []
    stages: dict[str, list[float]] = {}
    misses: list[list[str]] = []
    several = 0  # images where more than one plate was reported (another car in view)

    def timed_read(item: Labelled) -> tuple[Labelled, float, ReadResult]:
        image = item.path.read_bytes()
        if args.mask_plates:
            image = paint_over(image, boxes[item.path])
        if args.reencode or args.scale != 1:
            image = reencode(image, args.reencode or 95, args.scale)
        started = time.perf_counter()
        result = reader.read(image)
        return item, time.perf_counter() - started, result

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("top-1 {task.fields[acc]}"), TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task(args.dataset.name, total=len(items), acc="-")
        run_started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            done = [pool.submit(timed_read, item) for item in items]
            for n, future in enumerate(as_completed(done), 1):
                item, took, result = future.result()
                seconds.append(took)
                for stage, ms in result.stages_ms.items():
                    stages.setdefault(stage, []).append(ms / 1000)
                best = result.plates[0] if result.plates else None
                several += len(result.plates) > 1
                read = best.text if best else ""
                truth = "" if args.mask_plates else item.plate  # with the plates blurred out: nothing
                candidates = [c for c, _ in best.candidates[:5]] if best else []
                top1 += read == truth
                top1_o0 += same_but_o_and_zero(read, truth)
                top5 += truth in candidates or read == truth
                chars.append(char_accuracy(read, truth))
                if item.region:
                    guessed = best.region if best else ""
                    states_labelled += 1
                    states_guessed += bool(guessed)
                    states_right += guessed == item.region
                if labelled and read != truth:
                    misses.append([item.path.name, truth, read, " ".join(candidates),
                                   f"{best.confidence:.3f}" if best else "", best.raw_text if best else "",
                                   best.region if best else "", " ".join(p.text for p in result.plates[1:])])
                progress.update(task, advance=1, acc=f"{top1 / n:.1%}" if labelled else "-")

    wall_s = time.perf_counter() - run_started
    n = len(items)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = {
        "dataset": args.dataset.name,
        "split": args.split,
        "reencode": args.reencode or None,
        "scale": args.scale,
        "mask_plates": args.mask_plates,
        "n": n,
        "top1": round(top1 / n, 4) if labelled else None,
        "top5": round(top5 / n, 4) if labelled else None,
        "top1_o_eq_0": round(top1_o0 / n, 4) if labelled else None,
        "char_accuracy": round(statistics.fmean(chars), 4) if labelled else None,
        "concurrency": args.concurrency,
        "images_per_s": round(n / wall_s, 2),
        "median_s": round(statistics.median(seconds), 3),
        "p95_s": round(percentile(seconds, 95), 3),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "model_load_s": round(load_s, 2),
        "images_with_several_plates": several,
        "device": reader.device,
        **({"state": round(states_right / states_labelled, 4),
            "state_precision": round(states_right / states_guessed, 4) if states_guessed else 0.0,
            "state_guessed": round(states_guessed / states_labelled, 4)} if states_labelled else {}),
        "stages_median_s": {k: round(statistics.median(v), 3) for k, v in stages.items()},
        "stages_ran": {k: len(v) for k, v in stages.items()},
    }
    kinds = Counter(miss_kind(read, truth) for _, truth, read, *_ in misses)
    in_top5 = Counter(miss_kind(read, truth) for _, truth, read, top, *_ in misses if truth in top.split())
    if labelled and not args.mask_plates:  # with the plates blurred out, every miss is a false read
        summary["misses_by_kind"] = {kind: kinds[kind] for kind in MISS_KINDS}
    misses_path = args.misses or Path("bench-out") / f"ocr-misses-{args.dataset.name}.csv"
    misses_path.parent.mkdir(parents=True, exist_ok=True)
    with open(misses_path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "truth", "read", "top5", "confidence", "raw_text", "state", "other_plates"])
        writer.writerows(sorted(misses))

    if labelled:
        print_table(
            f"OCR on {args.dataset.name} ({n} images, {reader.device})"
            + (f", re-encoded at JPEG q{args.reencode}" if args.reencode else "")
            + (", labelled plates blurred out: right = nothing read" if args.mask_plates else ""),
            {"accuracy": {"top-1": summary["top1"], "top-5": summary["top5"], "top-1, O=0": summary["top1_o_eq_0"],
                          "per char": summary["char_accuracy"]}},
        )
    else:
        print(f"{args.dataset.name}: {n} unlabelled images, timing only")
    if misses and args.mask_plates:
        print(f"{len(misses)} of {n} photos with their plates blurred out reported one: "
              + ", ".join(read for _, _, read, *_ in sorted(misses, key=lambda m: m[2])))
    elif misses:
        print_table(
            f"the {len(misses)} misses",
            {kind: {"images": kinds[kind], "truth among the top 5": in_top5[kind]} for kind in MISS_KINDS},
        )
        swaps = confusions([(read, truth) for _, truth, read, *_ in misses])
        if swaps:
            print("characters misread (truth>read): " + ", ".join(f"{pair} x{k}" for pair, k in swaps.most_common()))
    if states_labelled:
        print_table(
            "state from the words on the plate",
            {"state": {"right of all": summary["state"], "guessed at all": summary["state_guessed"],
                       "right when guessed": summary["state_precision"]}},
        )
    print_table(
        "seconds per image",
        {"total": {"images": n, "median": summary["median_s"], "p95": summary["p95_s"]},
         # A stage that runs only sometimes (the fallback detector) is timed where it ran.
         **{stage: {"images": len(v), "median": round(statistics.median(v), 3), "p95": round(percentile(v, 95), 3)}
            for stage, v in stages.items()}},
    )
    print(f"{summary['images_per_s']} images/s reading {args.concurrency} at a time"
          + f" · peak RSS {summary['peak_rss_mb']} MB · model load {summary['model_load_s']} s"
          + f" · {several} images with more than one plate"
          + (f" · {len(misses)} misses in {misses_path}" if labelled else ""))
    if args.json:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
