"""Benchmark 11: the ImageNet classifier — EfficientNet-Lite0 live in Chromium, faithfulness, RSS.

Live: `Explorer('efficientnet_lite0')` in JupyterLab on the cat at 224², layer
`block7a_project_bn` (320 channels), measured as benchmark 6 measures VGG16: the same page
timings against one compiled `tf.GradientTape` gradient of the channel on a second copy of
the model in the same kernel. Faithfulness: one method's deletion and insertion curves (20
steps each, 42 images) against one batched forward pass of the same 42 images through the
class head, in a fresh interpreter. Memory: the process's RSS after loading the model.
"""

from __future__ import annotations

import json

from bench.b6_live import _layer_rows, _python, tape_cell
from bench.browser import lab_notebook
from bench.common import ARTIFACTS, Row, Section, fresh_python, percentiles

LAYER = "block7a_project_bn"
FAITHFULNESS_RATIO = 3.0
EXPLORER_CELL = (
    "from deconv_widgets import Explorer\n"
    f"ex = Explorer('efficientnet_lite0', layer={LAYER!r}, channel=0, method='guided')\nex"
)

FAITHFULNESS = """
import json, resource, time
import numpy as np
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = rss()
from deconv_widgets import zoo
from deconv_widgets.projection import Projector
from deconv_widgets.projection.classifier import probabilities
imported = rss()
model = zoo.efficientnet_lite0()
loaded = rss()
projector = Projector(model)
images, _ = zoo.photos(224)
pre = zoo.efficientnet_lite0_preprocess
x = pre(images[0])
saliency = np.abs(projector.project_class(x, 285, "saliency"))
batch = pre(np.repeat(images[:1], 42, axis=0))
def both():
    projector.faithfulness(images[0], 285, saliency, "deletion", 20, pre)
    projector.faithfulness(images[0], 285, saliency, "insertion", 20, pre)
forward = lambda: probabilities(projector, batch)
both(); forward()  # trace both
times = {"both": [], "forward": []}
for _ in range(REPEATS):
    for name, fn in (("both", both), ("forward", forward)):
        t = time.perf_counter(); fn(); times[name].append(time.perf_counter() - t)
print(json.dumps({"times": times, "rss": [start, imported, loaded, rss()]}))
"""


def _faithfulness(quick: bool) -> list[Row]:
    """Faithfulness (both modes) vs one forward pass of 42 images; RSS after loading."""
    code = FAITHFULNESS.replace("REPEATS", "3" if quick else "9")
    found = json.loads(fresh_python(code, timeout=900).strip().splitlines()[-1])
    both = percentiles(found["times"]["both"])["p50"]
    forward = percentiles(found["times"]["forward"])["p50"]
    start, imported, loaded, end = found["rss"]
    return [
        Row(
            "faithfulness of one method: deletion + insertion, 20 steps each, p50",
            f"{both * 1000:.0f} ms",
            f"{forward * 1000:.0f} ms (one forward pass of 42 images)",
            f"{both / forward:.2f}x",
            f"<= {FAITHFULNESS_RATIO}x",
            both / forward <= FAITHFULNESS_RATIO,
        ),
        Row(
            "peak RSS: after import / after loading the model / after the runs",
            f"{imported:.0f} / {loaded:.0f} / {end:.0f} MiB",
            f"{start:.0f} MiB (bare interpreter)",
        ),
    ]


def run(quick: bool = False) -> list[Section]:
    """Show Explorer('efficientnet_lite0') in JupyterLab and measure; then faithfulness."""
    from tests.browser.explorer_view import ExplorerView

    section = Section(11, "The ImageNet classifier: EfficientNet-Lite0 live, faithfulness, memory")
    with lab_notebook("bench_classifier", [EXPLORER_CELL]) as nb:
        nb.run_all(timeout=300)
        view = ExplorerView(nb, cell=0)
        view.wait_ready()
        tape = _python(nb, tape_cell("zoo.efficientnet_lite0()", (LAYER,)))
        section.rows += _layer_rows(nb, view.root, LAYER, tape[LAYER], quick)
        nb.page.screenshot(path=str(ARTIFACTS / "live_efficientnet.png"), full_page=True)
    section.rows += _faithfulness(quick)
    section.notes += [
        f"- `Explorer('efficientnet_lite0')` on the cat (224 x 224), layer `{LAYER}` (320 "
        "channels), method guided; rows as in benchmark 6 (picks through the channel box, "
        "timed in the page; baseline a compiled tape gradient of the channel in the same "
        "kernel).",
        "- Faithfulness: the saliency map of class 285 on the cat; `Projector.faithfulness` "
        "deletion then insertion (21 images each, one batch each, the blur included) against "
        "the class probabilities of 42 images in one batch; medians, interleaved.",
        "- RSS is the process's peak resident set (ru_maxrss) at each point.",
    ]
    return [section]
