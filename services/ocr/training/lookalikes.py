"""Count how plate labels spell each letter-digit look-alike pair: formats.LOOKALIKE_COUNTS.

    python -m services.ocr.training.lookalikes ../shared/data/openalpr-benchmarks/plates

Only the training split's labels (split.is_train_file) are counted, so the held-out crops that
bench/ocr.py --split val reports stay unseen by the prior too.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from services.ocr.formats import CONFUSABLE, lookalike_category
from services.ocr.training.split import is_train_file, labelled_crops

# (digit's spelling a common shape, letter's spelling a common shape); neither is not counted:
# formats.swap_prior does not use the pair's counts there.
CATEGORIES = ((0, 1), (1, 0), (1, 1))


def lookalike_pairs() -> list[str]:
    """Each letter-digit pair of formats.CONFUSABLE, digit first ("0O", "8B", ...)."""
    return sorted({"".join(sorted((a, b))) for a, alts in CONFUSABLE.items() for b in alts if a.isdigit() != b.isdigit()})


def lookalike_counts(labels: Iterable[str]) -> dict[str, dict[tuple[int, int], tuple[int, int]]]:
    """For each look-alike pair, per category of what the rest of a label makes of the two
    spellings: (times the label has the digit there, times the letter)."""
    counted: Counter[tuple[str, tuple[int, int], str]] = Counter()
    pairs = lookalike_pairs()
    for label in labels:
        for i, char in enumerate(label):
            for pair in pairs:
                if char in pair:
                    digit, letter = (label[:i] + c + label[i + 1:] for c in pair)
                    counted[pair, lookalike_category(digit, letter), char] += 1
    return {pair: {cat: (counted[pair, cat, pair[0]], counted[pair, cat, pair[1]]) for cat in CATEGORIES}
            for pair in pairs}


def training_labels(plates_dir: Path) -> list[str]:
    """The plate numbers of the training split's readable crops in `plates_dir` (split.labelled_crops)."""
    return [label for name, label in labelled_crops(plates_dir) if is_train_file(name)]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("plates_dir", type=Path, help="the plates set: crops and groundtruth.csv")
    args = ap.parse_args(argv)
    for pair, by_category in lookalike_counts(training_labels(args.plates_dir)).items():
        cells = ", ".join(f"{cat}: {counts}" for cat, counts in by_category.items())
        print(f'    "{pair}": {{{cells}}},')


if __name__ == "__main__":
    main()
