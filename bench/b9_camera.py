"""Benchmark 9: the Explorer on a live camera in JupyterLab (Chromium's fake camera).

End to end: the page scales each camera frame to the model's input size, sends it over the
comm, Python shows it and projects it, the page draws the projection and only then sends the
next frame (one in flight). Counted in the page: frames whose projection was drawn
(`data-frames-drawn`) per second over a window after warm-up; the bytes the page's kernel
websocket sent and received meanwhile, per frame.

Baseline in the same run and the same kernel, camera off: the same widget path without page
and comm (`ex.camera_frame` on random RGB bytes, then until the shown method is published).
"""

from __future__ import annotations

import json
from typing import Any

from bench.browser import lab_notebook
from bench.common import ARTIFACTS, Row, Section, percentiles

ZOO_RATE = 10.0  # projections drawn per second on the zoo model
FAKE_CAMERA = "--use-fake-device-for-media-stream"
ZOO_CELL = "from deconv_widgets import Explorer\nzoo_ex = Explorer()\nzoo_ex"
VGG_CELL = 'vgg_ex = Explorer("vgg16", layer="block3_conv3")\nvgg_ex'

# Count the bytes of every message on the page's websockets (sent, and received once a
# socket has sent something), so that a window's traffic can be read off two snapshots.
JS_COUNT_BYTES = """
() => {
  if (window.__ws) return true;
  const ws = window.__ws = {up: 0, down: 0, sockets: new Set()};
  const size = (d) => typeof d === 'string' ? new Blob([d]).size
    : (d.byteLength ?? d.size ?? 0);
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    ws.up += size(data);
    if (!ws.sockets.has(this)) {
      ws.sockets.add(this);
      this.addEventListener('message', (e) => { ws.down += size(e.data); });
    }
    return send.call(this, data);
  };
  return true;
}
"""

# Camera on; wait until `warm` frames were drawn, then count over `seconds`; camera off.
JS_MEASURE = """
async ([root, warm, seconds]) => {
  const hook = root.querySelector('[data-testid="own-images"]');
  const camera = root.querySelector('[data-testid="camera"]');
  const read = () => ({drawn: Number(hook.dataset.framesDrawn),
    sent: Number(hook.dataset.framesSent), up: window.__ws.up, down: window.__ws.down,
    at: performance.now()});
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  camera.click();
  const start = performance.now();
  while (Number(hook.dataset.framesDrawn) < warm) {
    if (performance.now() - start > 180000) throw new Error('warm-up: too few frames drawn');
    if (camera.dataset.state === 'off') throw new Error('the camera did not start');
    await sleep(20);
  }
  const a = read();
  await sleep(seconds * 1000);
  const b = read();
  camera.click();
  const dt = (b.at - a.at) / 1000;
  return {drawn: b.drawn - a.drawn, sent: b.sent - a.sent, up: b.up - a.up, down: b.down - a.down,
    seconds: dt, warmup: (a.at - start) / 1000};
}
"""

# In the kernel: frames through the widget's own path, until the shown method is published.
KERNEL_CELL = """\
import json, time
import numpy as np

def kernel_frames(ex, n):
    h, w = ex.image_shape[:2]
    rng = np.random.default_rng(0)
    ex.wait(300)
    times = []
    for _ in range(n):
        data = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        start = time.perf_counter()
        ex.camera_frame(data)
        ex.wait(60, shown_only=True)
        times.append((time.perf_counter() - start) * 1000)
    ex.wait(300)
    return times
"""


def _measure(nb: Any, cell: int, name: str, warm: int, seconds: float, n_kernel: int) -> dict:
    """Stream the fake camera into the Explorer of `cell`; then the kernel-only baseline."""
    from tests.browser.explorer_view import ExplorerView

    view = ExplorerView(nb, cell=cell, name=name)
    view.wait_ready()
    shape = json.loads(nb.run(f"print(json.dumps(list({name}.image_shape)))").strip())
    layer = nb.run(f"print({name}.layer)").strip()
    nb.page.evaluate(JS_COUNT_BYTES)
    live = nb.page.evaluate(JS_MEASURE, [view.root.element_handle(), warm, seconds])
    nb.run(f"{name}.wait(300)", timeout=300)
    state = view.root.get_by_test_id("camera").get_attribute("data-state")
    assert state == "off", f"{name}: the camera is still {state} after the toggle"
    kernel = json.loads(
        nb.run(f"print(json.dumps(kernel_frames({name}, {n_kernel})))", timeout=600).strip()
    )
    return {"live": live, "kernel": percentiles(kernel), "shape": shape, "layer": layer}


def _rows(label: str, m: dict, target: float | None) -> list[Row]:
    live, kernel = m["live"], m["kernel"]
    rate = live["drawn"] / live["seconds"]
    kernel_rate = 1000 / kernel["p50"]
    h, w = m["shape"][:2]
    frames = max(1, live["sent"])
    return [
        Row(
            f"{label} ({h}x{w}, {m['layer']}): camera frames -> projection drawn, per second",
            f"{rate:.1f}/s ({live['drawn']} in {live['seconds']:.1f} s, {live['sent']} sent)",
            f"{kernel_rate:.1f}/s (kernel alone, {kernel['p50']:.0f} ms p50)",
            f"{rate / kernel_rate:.2f}x",
            f">= {target:.0f}/s" if target else "—",
            rate >= target if target else None,
        ),
        Row(
            f"{label}: bytes per frame over the comm (page -> kernel; kernel -> page)",
            f"{live['up'] / frames / 1024:.1f} KiB; {live['down'] / frames / 1024:.1f} KiB",
            f"{h * w * 3 / 1024:.1f} KiB (the RGB frame)",
        ),
    ]


def run(quick: bool = False) -> list[Section]:
    """Start JupyterLab with a fake camera; stream it into Explorer() and Explorer('vgg16')."""
    from tests.browser.jupyter_host import CHROMIUM_ARGS

    if FAKE_CAMERA not in CHROMIUM_ARGS:
        raise RuntimeError(f"tests/browser/jupyter_host.py's CHROMIUM_ARGS lack {FAKE_CAMERA}")
    section = Section(9, "The camera live: projections per second in JupyterLab (Chromium)")
    seconds, n_kernel = (3.0, 5) if quick else (10.0, 30)
    with lab_notebook("bench_camera", [KERNEL_CELL, ZOO_CELL], permissions=["camera"]) as nb:
        nb.run_all(timeout=300)
        zoo = _measure(nb, 1, "zoo_ex", 10 if quick else 30, seconds, n_kernel)
        nb.run(VGG_CELL, timeout=300)
        last = nb.page.evaluate("() => window.__testPanel.content.widgets.length") - 1
        vgg = _measure(nb, last, "vgg_ex", 3 if quick else 8, seconds, n_kernel // 3)
        nb.page.screenshot(path=str(ARTIFACTS / "camera_live.png"), full_page=True)
    section.rows += _rows("zoo model", zoo, ZOO_RATE)
    section.rows += _rows("VGG16", vgg, None)
    section.notes += [
        "- Chromium's fake camera (`--use-fake-device-for-media-stream`, 640 x 480 test "
        "pattern), the context granted `camera`. The page crops each frame to the model's "
        "aspect ratio, scales it to the input size and sends RGB bytes; it sends the next frame "
        "once Python has handled the last one and the projection of the shown method for that "
        "image is drawn (after the next animation frame), or after a 5 s safety timeout.",
        f"- Counted in the page over {seconds:.0f} s after a warm-up: `data-frames-drawn` of the "
        "own-images hook (frames whose projection was drawn), and the bytes of every message on "
        "the page's websockets in that window (the frame messages up; images, projections, "
        "status and kernel status messages down), per frame sent.",
        "- Baseline: in the same kernel with the camera off, `ex.camera_frame` on random RGB "
        "bytes of the input size, timed until the shown method's projection of that frame is "
        "published in the traits (median): what the widget's compute alone allows.",
        "- Zoo: `Explorer()` (64 x 64 grey shapes CNN, every channel of the last layer sent at "
        'once). VGG16: `Explorer("vgg16", layer="block3_conv3")` (224 x 224, 256 channels: the '
        "worker computes the current channel).",
    ]
    return [section]
