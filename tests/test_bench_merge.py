"""`bench/run.py --only` keeps the other benchmarks' results in RESULTS.md."""

from __future__ import annotations

from bench.common import Row, Section
from bench.run import merge, render

META = {
    "args": "",
    "date": "2026-12-01 10:00 UTC",
    "mode": "full",
    "seconds": 100.0,
    "machine": {"cores": "2"},
    "versions": {"tensorflow": "2.21.0"},
    "load_before": "load 0.1",
    "load_after": "load 0.2",
}


def _section(number: int, value: str) -> Section:
    rows = [Row(f"measure {number}", value, "1 s", "2x", ">= 1x", True), Row("info", value)]
    return Section(number, f"benchmark {number}", rows, notes=[f"note {number} {value}"])


def test_only_replaces_the_rerun_benchmarks_rows_and_keeps_the_others():
    old = render([_section(n, "old") for n in (1, 2, 3)], META)
    again = {**META, "args": " --only 2", "date": "2026-12-05 12:00 UTC", "seconds": 7.0}
    merged = merge(old, [_section(2, "new")], again)
    assert merged is not None
    assert "Benchmark 2 re-run with `python bench/run.py --only 2` on 2026-12-05 12:00" in merged
    assert merged.count("| 1 | measure 1 | old") == 1 and merged.count("| 3 | measure 3 | old") == 1
    assert "| 2 | measure 2 | new" in merged and "| 2 | measure 2 | old" not in merged
    assert "note 1 old" in merged and "note 3 old" in merged and "note 2 new" in merged
    assert "note 2 old" not in merged
    # the order stays: summary rows by number, then the sections by number
    positions = [merged.index(f"| {n} | measure {n}") for n in (1, 2, 3)]
    sections = [merged.index(f"## {n}. benchmark {n}") for n in (1, 2, 3)]
    assert positions == sorted(positions) and sections == sorted(sections)
    assert max(positions) < min(sections)
    # the same as a whole run would write, but for the first paragraph
    whole = render([_section(1, "old"), _section(2, "new"), _section(3, "old")], META)
    assert merged.split("\n")[3:] == whole.split("\n")[3:]


def test_a_new_benchmark_is_added_in_its_place_and_a_foreign_file_is_rewritten():
    old = render([_section(n, "old") for n in (1, 3)], META)
    merged = merge(old, [_section(2, "new")], META)
    assert merged is not None
    assert merged.index("## 1.") < merged.index("## 2.") < merged.index("## 3.")
    assert merge("# my notes\n", [_section(2, "new")], META) is None
