"""Run the deconv-widgets benchmarks and write bench/RESULTS.md.

    python bench/run.py [--quick] [--only 1,2,...] [--out FILE]

With --only, an existing FILE keeps the other benchmarks' results: only the re-run ones' rows
and sections are replaced, and its first paragraph says what was re-run and when.

Each benchmark runs in its own fresh interpreter (no state, cache or thread pool shared between
them); a benchmark that fails is reported in the table with its error, the others still run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `deconv_widgets` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO_ROOT, Section, load_snapshot, machine, versions

BENCHMARKS = {
    1: ("bench.b1_click", "Click latency in JupyterLab (Chromium)"),
    2: ("bench.b2_grid", "Redraw of a 64-channel grid"),
    3: ("bench.b3_project", "project() warm on VGG16 (weights=None, 224x224x3)"),
    4: ("bench.b4_topk", "top_k throughput and peak memory over a stream"),
    5: ("bench.b5_cold", "Cold start"),
    6: ("bench.b6_live", "Live at any size: the Explorer on VGG16 in JupyterLab (Chromium)"),
    7: ("bench.b7_lenses", "Lenses on VGG16 at 224²: occlusion, Grad-CAM, the sanity cascade"),
    8: ("bench.b8_scan", "The Beam scan: DirectRunner × 2 vs single-process top_k"),
    9: ("bench.b9_camera", "The camera live: projections per second in JupyterLab (Chromium)"),
    10: ("bench.b10_any_cnn", "Any Keras CNN: MobileNetV2 at 224² against a compiled GradientTape"),
    11: ("bench.b11_classifier", "The ImageNet classifier: EfficientNet-Lite0 live, faithfulness"),
    12: ("bench.b12_visualize", "What a unit wants to see: feature visualisation on VGG16"),
}
WORKER_TIMEOUT = {
    1: 600,
    2: 300,
    3: 600,
    4: 600,
    5: 300,
    6: 900,
    7: 900,
    8: 1800,
    9: 900,
    10: 900,
    11: 1200,
    12: 3600,
}
RESULTS = REPO_ROOT / "bench" / "RESULTS.md"


def parse_only(text: str | None) -> list[int]:
    """'1,3' -> [1, 3]; None -> every benchmark. ValueError names the valid numbers."""
    if not text:
        return sorted(BENCHMARKS)
    numbers = []
    for item in text.split(","):
        part = item.strip()
        if not part.isdigit() or int(part) not in BENCHMARKS:
            valid = ", ".join(str(n) for n in BENCHMARKS)
            raise ValueError(f"unknown benchmark {part!r} in --only; choose from: {valid}")
        numbers.append(int(part))
    return sorted(set(numbers))


def run_worker(number: int, quick: bool, json_path: Path) -> None:
    """Inside a fresh interpreter: run one benchmark and write its Section(s) as JSON."""
    module_name, title = BENCHMARKS[number]
    start = time.perf_counter()
    try:
        module = importlib.import_module(module_name)
        sections = module.run(quick=quick)
    except Exception:  # any failure: the table reports it, the run goes on
        sections = [Section(number, title, error=traceback.format_exc()[-4000:])]
    sections[0].seconds = time.perf_counter() - start
    json_path.write_text(json.dumps([s.to_dict() for s in sections]))


def spawn(number: int, quick: bool) -> list[Section]:
    """Run benchmark `number` in a subprocess and collect its sections."""
    _, title = BENCHMARKS[number]
    with tempfile.TemporaryDirectory() as tmp:
        json_path = Path(tmp) / "result.json"
        args = [sys.executable, str(Path(__file__).resolve()), "--worker", str(number)]
        args += ["--json", str(json_path)] + (["--quick"] if quick else [])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        start = time.perf_counter()
        try:
            done = subprocess.run(
                args,
                cwd=REPO_ROOT,
                env=env,
                timeout=WORKER_TIMEOUT[number],
                text=True,
                stdout=sys.stdout,
                stderr=subprocess.PIPE,
                check=False,
            )
        except subprocess.TimeoutExpired:
            error = f"timed out after {WORKER_TIMEOUT[number]} s"
            return [Section(number, title, error=error, seconds=time.perf_counter() - start)]
        if json_path.exists():
            return [Section.from_dict(d) for d in json.loads(json_path.read_text())]
        error = f"worker exited with {done.returncode}:\n{(done.stderr or '')[-3000:]}"
        return [Section(number, title, error=error, seconds=time.perf_counter() - start)]


def _cell(text: str) -> str:
    """Escape a value for a markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(sections: list[Section], meta: dict[str, object]) -> str:
    """The RESULTS.md text: machine, versions, date, then a table per benchmark."""
    lines = ["# Benchmark results", ""]
    lines += [
        f"Written by `python bench/run.py{meta['args']}` on {meta['date']} "
        f"({meta['mode']} run, {meta['seconds']:.0f} s in all). Every ratio is measured in the "
        "same run against its baseline; medians unless marked p95. Regenerate with "
        "`./run bench`.",
        "",
        "## Machine",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in meta["machine"].items()]
    lines += [f"- before the run: {meta['load_before']}", f"- after the run: {meta['load_after']}"]
    lines += ["", "## Versions", ""]
    lines += [", ".join(f"{k} {v}" for k, v in meta["versions"].items()), ""]
    lines += ["## Summary", "", "| # | measure | ours | baseline | ratio | target | met |"]
    lines += ["|---|---|---|---|---|---|---|"]
    for s in sections:
        lines += summary_rows(s)
    lines.append("")
    for s in sections:
        lines += section_lines(s)
    return "\n".join(lines).rstrip() + "\n"


def summary_rows(s: Section) -> list[str]:
    """A benchmark's rows of the summary table: the rows with a target, or its failure."""
    rows = []
    for r in s.rows:
        if r.met is None:
            continue
        met = "yes" if r.met else "**no**"
        cells = [r.measure, r.value, r.baseline, r.ratio, r.target]
        rows.append(f"| {s.number} | " + " | ".join(map(_cell, cells)) + f" | {met} |")
    if s.error:
        rows.append(f"| {s.number} | {_cell(s.title)} | failed | — | — | — | **no** |")
    return rows


def section_lines(s: Section) -> list[str]:
    """A benchmark's own section: its heading, time, table, notes and error."""
    lines = [f"## {s.number}. {s.title}", ""]
    if s.seconds:
        lines += [f"_{s.seconds:.0f} s_", ""]
    if s.rows:
        lines += ["| measure | ours | baseline | ratio | target | met |"]
        lines += ["|---|---|---|---|---|---|"]
        for r in s.rows:
            met = "—" if r.met is None else ("yes" if r.met else "**no**")
            cells = [r.measure, r.value, r.baseline, r.ratio, r.target, met]
            lines.append("| " + " | ".join(map(_cell, cells)) + " |")
        lines.append("")
    lines += s.notes + ([""] if s.notes else [])
    if s.error:
        lines += ["Failed:", "", "```", s.error.strip(), "```", ""]
    return lines


def merge(old: str, sections: list[Section], meta: dict[str, object]) -> str | None:
    """`old` RESULTS.md with the re-run benchmarks' summary rows and sections replaced.

    `--only` re-runs some benchmarks: the others keep their rows, and the first paragraph says
    what was re-run, when and under which load. None when `old` is not a RESULTS.md.
    """
    lines = old.rstrip("\n").split("\n")
    intro = next((i for i, line in enumerate(lines) if line.startswith("Written by")), None)
    if intro is None or "## Summary" not in lines:
        return None
    numbers = sorted({s.number for s in sections})
    which = ("Benchmark " if len(numbers) == 1 else "Benchmarks ") + ", ".join(map(str, numbers))
    lines[intro] += (
        f" {which} re-run with `python bench/run.py{meta['args']}` on {meta['date']} "
        f"({meta['mode']} run, {meta['seconds']:.0f} s; before the run: {meta['load_before']}); "
        "its rows below come from that run."
    )
    summary = lines.index("## Summary")
    first_section = next(
        (i for i, line in enumerate(lines) if _section_number(line) is not None), len(lines)
    )
    head = lines[: summary + 4]  # the heading, a blank line, the table's header and rule
    rows = [line for line in lines[summary + 4 : first_section] if line.startswith("| ")]
    kept = [row for row in rows if _row_number(row) not in numbers]
    rows = sorted(kept + [r for s in sections for r in summary_rows(s)], key=_row_number)
    blocks: dict[int, list[str]] = {}
    current: list[str] = []
    for line in lines[first_section:]:
        number = _section_number(line)
        if number is not None:
            current = blocks.setdefault(number, [])
        current.append(line)
    for s in sections:
        blocks[s.number] = section_lines(s)
    body = [line for number in sorted(blocks) for line in blocks[number]]
    return "\n".join([*head, *rows, "", *body]).rstrip() + "\n"


def _row_number(row: str) -> int:
    """The benchmark number of a summary row ("| 3 | ...")."""
    return int(row.split("|")[1])


def _section_number(line: str) -> int | None:
    """The number of a benchmark's heading ("## 3. ..."), else None."""
    head = line[3:].split(".", 1)[0] if line.startswith("## ") else ""
    return int(head) if head.isdigit() else None


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks every path")
    parser.add_argument("--only", help="comma-separated benchmark numbers, e.g. 2,3")
    parser.add_argument("--out", type=Path, default=RESULTS, help="markdown file to write")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        run_worker(args.worker, args.quick, args.json)
        return 0
    try:
        numbers = parse_only(args.only)
    except ValueError as error:
        parser.error(str(error))
    start = time.perf_counter()
    load_before = load_snapshot()
    sections: list[Section] = []
    for number in numbers:
        print(f"== benchmark {number}: {BENCHMARKS[number][1]}", flush=True)
        found = spawn(number, args.quick)
        for section in found:
            print(
                f"   {section.title}: {len(section.rows)} rows"
                + (" (FAILED)" if section.error else ""),
                flush=True,
            )
        sections += found
    sections.sort(key=lambda s: s.number)
    shown = (" --quick" if args.quick else "") + (f" --only {args.only}" if args.only else "")
    meta = {
        "args": shown,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": "quick" if args.quick else "full",
        "seconds": time.perf_counter() - start,
        "machine": machine(),
        "versions": versions(),
        "load_before": load_before,
        "load_after": load_snapshot(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    merged = None
    if args.only and args.out.exists():  # keep the other benchmarks' results
        merged = merge(args.out.read_text(), sections, meta)
    args.out.write_text(merged or render(sections, meta))
    print(f"wrote {args.out}", flush=True)
    return 1 if any(s.error for s in sections) else 0


if __name__ == "__main__":
    sys.exit(main())
