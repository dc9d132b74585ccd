"""Average fine-tuned recogniser weights into one network (a uniform "model soup").

    python -m services.ocr.training.soup --out services/ocr/weights/plate_recognizer.pth \\
        /tmp/shipped.pth /tmp/a.pth /tmp/b.pth --real-dir ../shared/data/openalpr-benchmarks/plates

Fine-tunes that start from the same weights stay in one basin, so their average is a network
too, and it keeps what the runs agree on. Each longer GPU run read the held-out crops better
and street photos worse at top-1 (better at top-5); the mean of the CPU-trained weights and two
such runs kept most of both (services/ocr/README.md). Every ingredient must have the same keys
and shapes. The JSON beside --out records each ingredient's own record and, with --real-dir, the
soup's validation figures (the fine-tune's own held-out crops, never trained on).
"""

from __future__ import annotations

import argparse
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch

from services.ocr.recognizer import build_model, load_state_dict
from services.ocr.training.finetune import evaluate, held_out_sets, load_real, save


def average(states: Sequence[Mapping[str, Any]]) -> "OrderedDict[str, Any]":
    """The element-wise mean of state dicts with the same keys and shapes (integer buffers from the first)."""
    if not states:
        raise ValueError("no weights to average")
    first = states[0]
    for i, state in enumerate(states[1:], start=2):
        if state.keys() != first.keys():
            raise ValueError(f"ingredient {i} has other keys than the first: not the same network")
        for key, value in state.items():
            if value.shape != first[key].shape:
                raise ValueError(f"ingredient {i}: {key} is {tuple(value.shape)}, the first's {tuple(first[key].shape)}")
    out: OrderedDict[str, Any] = OrderedDict()
    for key, value in first.items():
        if value.is_floating_point():
            out[key] = sum(s[key].float() for s in states) / len(states)
        else:
            out[key] = value
    return out


def _record(weights: Path) -> dict[str, Any]:
    """An ingredient's fine-tune record without its per-checkpoint history (its final figures stay)."""
    meta = weights.with_suffix(".json")
    return {"weights": weights.name, "record": _without_history(json.loads(meta.read_text())) if meta.exists() else None}


def _without_history(record: Any) -> Any:
    if isinstance(record, dict):
        return {k: _without_history(v) for k, v in record.items() if k != "history"}
    return record


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ingredients", type=Path, nargs="+", help="fine-tuned .pth files (each may have its .json)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--real-dir", type=Path, default=None, help="plate crops: record the soup's held-out figures")
    args = ap.parse_args(argv)

    # Records first: --out may be one of the ingredients (the shipped weights).
    meta: dict[str, Any] = {"soup_of": [_record(p) for p in args.ingredients], "torch": torch.__version__}
    model = build_model()
    model.load_state_dict(average([load_state_dict(p) for p in args.ingredients]))
    if args.real_dir:
        real_val, real_small = held_out_sets(load_real(args.real_dir)[1])
        meta["validation"] = {"real": evaluate(model, real_val), "real_small": evaluate(model, real_small)}
        print(json.dumps({k: v["accuracy"] for k, v in meta["validation"].items()}))
    save(model, args.out, meta)
    print(f"{args.out}: the mean of {len(args.ingredients)} networks")


if __name__ == "__main__":
    main()
