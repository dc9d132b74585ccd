"""The OCR suite's comparison of two runs' misses (pure logic, no model)."""

from __future__ import annotations

from pathlib import Path

from bench.ocr_suite import CONDITIONS, Miss, changes, load_misses

HEADER = "file,truth,read,top5,confidence,raw_text,state,other_plates\n"


def test_misses_load_from_bench_ocrs_csv(tmp_path: Path) -> None:
    path = tmp_path / "us.csv"
    path.write_text(HEADER + "a.jpg,0SG719,OSG719,OSG719 0SG719 DSG719,0.717,OSG719,,\nb.jpg,383WJP,,,,,,\n")
    assert load_misses(path) == {"a.jpg": Miss("0SG719", "OSG719", ("OSG719", "0SG719", "DSG719")),
                                 "b.jpg": Miss("383WJP", "", ())}


def test_changes_name_the_photos_won_and_lost_top1_and_top5() -> None:
    before = {
        "won.jpg": Miss("AC0M7V", "AC0MZV", ("AC0MZV", "AC0M7V")),  # read right now
        "still.jpg": Miss("853FL", "5853FL", ("5853FL", "853FL")),  # a miss both times
        "into-top5.jpg": Miss("CJ1P5G", "CJIP5G", ("CJIP5G",)),
    }
    after = {
        "still.jpg": Miss("853FL", "5853FL", ("5853FL", "853FL")),
        "into-top5.jpg": Miss("CJ1P5G", "CJIP5G", ("CJIP5G", "CJ1P5G")),
        "lost.jpg": Miss("8951283", "B951283", ("B951283", "8951283")),  # top-1 lost, top-5 kept
        "gone.jpg": Miss("FK2X2Z", "", ()),  # lost from the top 5 too
    }
    moved = changes(before, after)
    assert moved.won == ["won.jpg"]
    assert moved.lost == ["gone.jpg", "lost.jpg"]
    assert moved.won_top5 == ["into-top5.jpg"]
    assert moved.lost_top5 == ["gone.jpg"]


def test_the_same_misses_change_nothing() -> None:
    misses = {"a.jpg": Miss("AYE132", "4YE132", ("4YE132", "AYE132"))}
    moved = changes(misses, dict(misses))
    assert (moved.won, moved.lost, moved.won_top5, moved.lost_top5) == ([], [], [], [])


def test_conditions_have_distinct_names() -> None:
    assert len({c.name for c in CONDITIONS}) == len(CONDITIONS)
    assert len({(c.folder, c.args) for c in CONDITIONS}) == len(CONDITIONS)


def test_a_table_piped_to_a_file_keeps_its_row_names_and_headers_whole(capsys) -> None:
    from bench._common import print_table

    row = {"n": 115, "top-1": 88.7, "top-5": 94.8, "O=0": 89.6, "median": 0.588, "won": 0, "lost": 0, "5 won": 0, "5 lost": 0}
    print_table("OCR suite, % of photos (suite-new against suite-old)", {"plates-val": row, "us-no-plate": row})
    out = capsys.readouterr().out
    assert "plates-val" in out and "us-no-plate" in out and "median" in out and "5 lost" in out
