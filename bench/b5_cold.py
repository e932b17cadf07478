"""Benchmark 5: cold start: imports and the first Explorer, each in a fresh interpreter."""

from __future__ import annotations

import json

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
deadline = time.perf_counter() + 120  # wait for the data, should it come from a worker thread
while not (explorer.projections and explorer.activations) and time.perf_counter() < deadline:
    time.sleep(0.005)
ready = len(explorer.projections) > 0 and len(explorer.activations) > 0
out["first Explorer() until its data is ready"] = [time.perf_counter() - t, heavy()]
out["ready"] = ready
print(json.dumps(out))
"""

# The floor: TensorFlow (and the Keras it loads) imported alone, as the package imports it.
TF_ALONE = r"""
import time
start = time.perf_counter()
from deconv_widgets._tf import tf
import keras
print(time.perf_counter() - start)
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
images = stage("zoo.shapes_images(16)", lambda: zoo.shapes_images(16, random_seed=0)[0])
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


HEAVY = ("tensorflow", "keras", "matplotlib", "anywidget", "ipywidgets", "PIL", "scipy")

# Who imports each heavy package first, and how long that import takes (cumulative). An
# __import__ hook, because `python -X importtime` goes to fd 2, which deconv_widgets._tf
# silences while TensorFlow loads.
WHO_IMPORTS = r"""
import builtins, json, sys, time, traceback
HEAVY = %r
found, original = {}, builtins.__import__
def hook(name, globals=None, locals=None, fromlist=(), level=0):
    top = name.split(".")[0] if level == 0 else None
    first = top in HEAVY and top not in sys.modules and top not in found
    if first:
        ours = [f"{f.filename.split('/work/main/')[-1]}:{f.lineno}"
                for f in traceback.extract_stack()[:-1] if "deconv_widgets" in f.filename]
        importer = (globals or {}).get("__name__", "?")
        found[top] = {"by": importer, "ours": " -> ".join(ours[:6]) or None}
        start = time.perf_counter()
    try:
        return original(name, globals, locals, fromlist, level)
    finally:
        if first:
            found[top]["seconds"] = time.perf_counter() - start
builtins.__import__ = hook
import deconv_widgets.widgets
print(json.dumps(found))
"""


def import_chains() -> list[str]:
    """Each heavy package `import deconv_widgets.widgets` loads: time, importer, our chain."""
    found = json.loads(fresh_python(WHO_IMPORTS % (HEAVY,)).strip().splitlines()[-1])
    lines = []
    for package, info in sorted(found.items(), key=lambda kv: -kv[1].get("seconds", 0)):
        took = info.get("seconds", 0)
        if took < 0.02:
            continue
        if info["by"].startswith("deconv_widgets"):
            lines.append(f"{package} {ms(took)} via `{info['ours']}`")
        else:
            lines.append(f"{package} {ms(took)} (imported by {info['by']}, inside the above)")
    return lines


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
    floor = [float(fresh_python(TF_ALONE).strip().splitlines()[-1]) for _ in range(repeats)]
    section.rows.append(
        Row(
            "of which unavoidable for an Explorer: TensorFlow + Keras import alone",
            ms(percentiles(floor)["p50"]),
            target="report",
        )
    )
    if not all(r["ready"] for r in runs):
        section.notes.append("- **the first Explorer had no activations/projections yet**")
    parts = json.loads(fresh_python(EXPLORER_PARTS).strip().splitlines()[-1])
    section.notes.append(
        "- The first Explorer, stage by stage (fresh interpreter, imports done): "
        + "; ".join(f"{k} {ms(v)}" for k, v in parts.items())
        + "."
    )
    section.notes.append(
        "- Heavy packages `import deconv_widgets.widgets` loads (cumulative time of the first "
        "import, and our import lines on the stack, outermost first): "
        + "; ".join(import_chains())
        + "."
    )
    section.notes.append(
        f"- Median of {repeats} fresh interpreters per stage; each stage is timed after the "
        "previous one in the same interpreter (so `import deconv_widgets.widgets` counts only "
        "what `import deconv_widgets` had not loaded). First render in the browser: see "
        "benchmark 1."
    )
    return [section]
