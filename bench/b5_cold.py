"""Benchmark 5: cold start: imports and the first Explorer, each in a fresh interpreter."""

from __future__ import annotations

import json
import re

from bench.common import Row, Section, fresh_python, ms, percentiles

# One fresh interpreter: time each stage and say which heavy modules each stage pulled in.
STAGES = r"""
import json, sys, time
def heavy():
    return sorted(m for m in ("tensorflow", "keras", "matplotlib", "anywidget", "ipywidgets")
                  if m in sys.modules)
out = {}
t = time.perf_counter(); import deconv_widgets
out["import deconv_widgets"] = [time.perf_counter() - t, heavy()]
t = time.perf_counter(); import deconv_widgets.widgets
out["import deconv_widgets.widgets"] = [time.perf_counter() - t, heavy()]
t = time.perf_counter(); explorer = deconv_widgets.Explorer()
ready = len(explorer.projections) > 0 and len(explorer.activations) > 0
out["first Explorer() until its data is ready"] = [time.perf_counter() - t, heavy()]
out["ready"] = ready
print(json.dumps(out))
"""

# Where the first Explorer's time goes, stage by stage (a fresh interpreter, imports done).
EXPLORER_PARTS = r"""
import json, time
import deconv_widgets.widgets
from deconv_widgets import Projector, zoo
from deconv_widgets.projection import METHODS
out = {}
def stage(name, fn):
    start = time.perf_counter()
    value = fn()
    out[name] = time.perf_counter() - start
    return value
model = stage("zoo.shapes_model()", zoo.shapes_model)
images = stage("zoo.shapes_images(16)", lambda: zoo.shapes_images(16, seed=0)[0])
p = stage("Projector(model)", lambda: Projector(model))
first, layer = p.layers[0].name, p.layers[-1].name
stage(f"first forward to {first} (traces)", lambda: p.activations(images[0], first))
stage(f"activations of {layer} (traces)", lambda: p.activations(images[0], layer))
for m in METHODS:
    stage(f"project_many all channels, {m} (traces)",
          lambda: p.project_many(images[0], layer, None, m))
stage("project_many all channels, deconvnet, warm",
      lambda: p.project_many(images[0], layer, None, "deconvnet"))
print(json.dumps(out))
"""


HEAVY = ("tensorflow", "keras", "matplotlib", "anywidget", "ipywidgets", "scipy", "PIL")


def import_chains(module: str) -> list[str]:
    """For each heavy package `import module` loads: its cumulative time and who imported it.

    Parsed from `python -X importtime`: a module's children print before it, deeper indented,
    so the importer of line i is the next line with a smaller indent.
    """
    code = (
        "import subprocess, sys; r = subprocess.run([sys.executable, '-X', 'importtime', '-c', "
        f"'import {module}'], capture_output=True, text=True); print(r.stderr)"
    )
    entries = []
    for line in fresh_python(code).splitlines():
        match = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)", line)
        if match:
            entries.append((len(match.group(3)), match.group(4), int(match.group(2)) / 1e6))
    found = []
    for package in HEAVY:  # only those that cost something are reported below
        index = next((i for i, e in enumerate(entries) if e[1] == package), None)
        if index is None:
            continue
        depth, _, seconds = entries[index]
        if seconds < 0.02:
            continue
        chain = []
        for later in entries[index + 1 :]:
            if later[0] < depth:
                chain.append(later[1])
                depth = later[0]
        ours = [name for name in chain if name.startswith("deconv_widgets")]
        via = " <- ".join(ours[:3]) if ours else " <- ".join(chain[:3])
        found.append(
            f"{package} {ms(seconds)} (imported by {chain[0] if chain else '?'}; via {via})"
        )
    return found


def run(quick: bool = False) -> list[Section]:
    """Median stage times over fresh interpreters, a breakdown of the first Explorer."""
    section = Section(5, "Cold start")
    repeats = 1 if quick else 3
    runs = [json.loads(fresh_python(STAGES).strip().splitlines()[-1]) for _ in range(repeats)]
    for stage in (k for k in runs[0] if k != "ready"):
        stats = percentiles(r[stage][0] for r in runs)
        loaded = ", ".join(runs[0][stage][1]) or "none of them"
        section.rows.append(
            Row(stage, f"{ms(stats['p50'])} (max {ms(stats['max'])})", target="report")
        )
        section.notes.append(f"- after `{stage}`: heavy modules loaded: {loaded}.")
    if not all(r["ready"] for r in runs):
        section.notes.append("- **the first Explorer had no activations/projections yet**")
    parts = json.loads(fresh_python(EXPLORER_PARTS).strip().splitlines()[-1])
    section.notes.append(
        "- The first Explorer, stage by stage (fresh interpreter, imports done): "
        + "; ".join(f"{k} {ms(v)}" for k, v in parts.items())
        + "."
    )
    chains = import_chains("deconv_widgets.widgets")
    section.notes.append(
        "- Heavy packages `import deconv_widgets.widgets` loads (`-X importtime`, cumulative, "
        "first importer; the chain names our modules): " + "; ".join(chains) + "."
    )
    section.notes.append(
        f"- Median of {repeats} fresh interpreters per stage; each stage is timed after the "
        "previous one in the same interpreter (so `import deconv_widgets.widgets` counts only "
        "what `import deconv_widgets` had not loaded). First render in the browser: see "
        "benchmark 1."
    )
    return [section]
