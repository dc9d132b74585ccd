"""The OCR suite: the dev photos read seven ways in one command, and what a change won and lost.

    python bench/ocr_suite.py ../shared/data/openalpr-benchmarks --out bench-out/suite-new \\
        [--against bench-out/suite-old] [--only us,eu]

Why: one us-endtoend photo is 0.9 points, and a change to the reader moves a photo or two either
way by luck (a near-tie tipped by a new row, a re-encode, another seed). A change worth keeping
holds up when the same photos are read re-encoded, smaller and larger, and on the other sets;
and it must not make the reader report plates that are not there (the us photos read again with
their plates blurred out, where the right answer is no plate).
The suite runs `bench/ocr.py` once per condition (each with its own progress bar), keeps each
condition's JSON summary and misses CSV under --out, prints one table and, with --against (the
--out of an earlier run), the photos won and lost in each condition, top-1 and top-5. The
reader's settings come from the environment as in bench/ocr.py: run the suite under a setting
(CARDAK_MAX_LINES=28, CARDAK_RECOGNIZER_WEIGHTS=new.pth) against a run without it.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# The repo root instead of bench/, whose queue.py would shadow the stdlib queue module.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench._common import print_table  # noqa: E402

OCR_BENCH = Path(__file__).with_name("ocr.py")


@dataclass(frozen=True)
class Condition:
    name: str  # the table's row, --only's name and the file names under --out
    folder: str  # under the data root
    args: tuple[str, ...] = ()


CONDITIONS = (
    Condition("us", "us-endtoend"),
    Condition("us-q80", "us-endtoend", ("--reencode", "80")),
    Condition("us-x0.75", "us-endtoend", ("--scale", "0.75")),
    Condition("us-x1.5", "us-endtoend", ("--scale", "1.5")),
    Condition("plates-val", "plates", ("--split", "val")),  # crops never trained on
    Condition("eu", "eu-endtoend"),
    # The us photos with their plates blurred out: "top-1" is the share that reads no plate.
    Condition("us-no-plate", "us-endtoend", ("--mask-plates",)),
)


@dataclass(frozen=True)
class Miss:
    truth: str
    read: str
    top5: tuple[str, ...]


def load_misses(path: Path) -> dict[str, Miss]:
    """bench/ocr.py's misses CSV, by file name."""
    with open(path, newline="") as f:
        return {row["file"]: Miss(row["truth"], row["read"], tuple(row["top5"].split())) for row in csv.DictReader(f)}


@dataclass(frozen=True)
class Changes:
    won: list[str]  # files read right now and not before
    lost: list[str]
    won_top5: list[str]  # the truth among the top 5 now and not before
    lost_top5: list[str]


def changes(before: dict[str, Miss], after: dict[str, Miss]) -> Changes:
    """What moved between two runs over the same files: a file missing from a misses CSV was read
    right, and a miss whose top 5 holds the truth still counts for top-5."""
    def in_top5(misses: dict[str, Miss], name: str) -> bool:
        return name not in misses or misses[name].truth in misses[name].top5

    names = sorted(set(before) | set(after))
    return Changes(
        won=[n for n in names if n in before and n not in after],
        lost=[n for n in names if n not in before and n in after],
        won_top5=[n for n in names if not in_top5(before, n) and in_top5(after, n)],
        lost_top5=[n for n in names if in_top5(before, n) and not in_top5(after, n)],
    )


def run(condition: Condition, root: Path, out: Path) -> dict:
    """bench/ocr.py on one condition; its summary (also saved as NAME.json beside NAME.csv)."""
    command = [sys.executable, str(OCR_BENCH), str(root / condition.folder), *condition.args,
               "--json", "--misses", str(out / f"{condition.name}.csv")]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True)  # the progress bar stays on stderr
    if done.returncode != 0:
        raise SystemExit(f"{condition.name}: bench/ocr.py exited {done.returncode}")
    summary: dict = json.loads(done.stdout.strip().splitlines()[-1])
    (out / f"{condition.name}.json").write_text(json.dumps(summary, indent=1))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="the folder holding us-endtoend, plates and eu-endtoend")
    parser.add_argument("--out", type=Path, required=True, help="folder for each condition's JSON and misses CSV")
    parser.add_argument("--against", type=Path, help="the --out of an earlier run: list the photos won and lost")
    parser.add_argument("--only", default="", help="comma-separated conditions: " + ", ".join(c.name for c in CONDITIONS))
    args = parser.parse_args()
    wanted = [s for s in args.only.split(",") if s]
    unknown = set(wanted) - {c.name for c in CONDITIONS}
    if unknown:
        parser.error(f"unknown condition(s) {', '.join(sorted(unknown))}; choose from {', '.join(c.name for c in CONDITIONS)}")
    conditions = [c for c in CONDITIONS if not wanted or c.name in wanted]
    missing = sorted({c.folder for c in conditions if not (args.root / c.folder).is_dir()})
    if missing:
        raise SystemExit(f"{args.root}: no {', '.join(missing)} folder (the OpenALPR benchmarks of ../shared/data)")
    if args.against:
        absent = [c.name for c in conditions if not (args.against / f"{c.name}.csv").exists()]
        if absent:
            raise SystemExit(f"--against {args.against}: no misses of {', '.join(absent)} there "
                             "(the --out of an earlier run of these conditions)")
    args.out.mkdir(parents=True, exist_ok=True)

    rows: dict[str, dict[str, float]] = {}
    moved: dict[str, tuple[dict[str, Miss], dict[str, Miss], Changes]] = {}  # before, after, what moved
    for condition in conditions:
        summary = run(condition, args.root, args.out)
        row = {"n": summary["n"], "top-1": round(100 * summary["top1"], 1), "top-5": round(100 * summary["top5"], 1),
               "O=0": round(100 * summary["top1_o_eq_0"], 1), "median": summary["median_s"]}
        if args.against:
            before, after = load_misses(args.against / f"{condition.name}.csv"), load_misses(args.out / f"{condition.name}.csv")
            c = changes(before, after)
            moved[condition.name] = (before, after, c)
            row |= {"won": len(c.won), "lost": len(c.lost), "5 won": len(c.won_top5), "5 lost": len(c.lost_top5)}
        rows[condition.name] = row
    # Percentages and median seconds; won / lost: photos read right now and not then (top-1), and
    # the same for top-5.
    print_table(f"OCR suite, % of photos ({args.out.name}" + (f" against {args.against.name})" if args.against else ")"), rows)
    for name, (before, after, c) in moved.items():
        for label, files, misses in (("won", c.won, before), ("lost", c.lost, after),
                                     ("top-5 won", c.won_top5, before), ("top-5 lost", c.lost_top5, after)):
            for file in files:
                m = misses[file]
                print(f"{name}: {label} {file} {m.truth or 'no plate'} (read {m.read or '-'}" + (" then)" if misses is before else ")"))
    (args.out / "suite.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
