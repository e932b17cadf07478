"""Benchmark 2: our JS grid renderer vs matplotlib 8x8 subplots to PNG, for 64 channels."""

from __future__ import annotations

import io
import time

import numpy as np

from bench.browser import chromium, serve_files
from bench.common import REPO_ROOT, Row, Section, ms, percentiles

MOUNTS = {"lib": REPO_ROOT / "js" / "src" / "lib"}
TARGET = 20.0

# Draw the same (H, W, C) float32 map `repeats` times with the library's drawGrid; each sample
# ends with a 1-pixel getImageData so the pixels are really written before the clock stops.
JS_TIME_GRID = """
async ({height, width, channels, repeats, warmup}) => {
  const { drawGrid } = await import('./lib/grid.js');
  const n = height * width * channels;
  const data = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; data[i] = s / 4294967296; }
  const canvas = document.createElement('canvas');
  document.body.appendChild(canvas);
  const shape = [height, width, channels];
  const samples = [];
  for (let r = 0; r < warmup + repeats; r++) {
    const t0 = performance.now();
    drawGrid(canvas, data, shape, { selected: r % channels });
    canvas.getContext('2d').getImageData(0, 0, 1, 1);
    const t1 = performance.now();
    if (r >= warmup) samples.push(t1 - t0);
  }
  // Where the time goes: value ranges, a per-pixel colour look-up
  // (colourOf, one call a value), the same look-up through a 256-entry table, and putImageData.
  const median = (f, r) => {
    f(); const s = [];
    for (let i = 0; i < r; i++) { const a = performance.now(); f(); s.push(performance.now() - a); }
    s.sort((x, y) => x - y); return s[r >> 1];
  };
  const { channelRanges } = await import('./lib/grid.js');
  const { sequential, unitScale } = await import('./lib/colormaps.js');
  // the per-pixel look-up, one call a value (what a colour map without a table costs)
  const colourOf = (v, range) => sequential(unitScale(v, range.min, range.max));
  const ranges = channelRanges(data, shape);
  const plane = height * width;
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) lut.set(sequential(i / 255), i * 3);
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(canvas.width, canvas.height);
  const r = Math.max(5, Math.min(repeats, 20));
  const parts = {
    ranges: median(() => channelRanges(data, shape), r),
    colourOf: median(() => {
      let acc = 0;
      for (let c = 0; c < channels; c++) {
        for (let i = 0; i < plane; i++) {
          acc += colourOf(data[i * channels + c], ranges[c])[0];
        }
      }
      return acc;
    }, r),
    lut: median(() => {
      let acc = 0;
      for (let c = 0; c < channels; c++) {
        const { min, max } = ranges[c];
        const k = max > min ? 255 / (max - min) : 0;
        for (let i = 0; i < plane; i++) {
          let j = ((data[i * channels + c] - min) * k + 0.5) | 0;
          j = j < 0 ? 0 : j > 255 ? 255 : j;
          acc += lut[j * 3];
        }
      }
      return acc;
    }, r),
    put: median(() => { ctx.putImageData(image, 0, 0); ctx.getImageData(0, 0, 1, 1); }, r),
  };
  return { samples, parts, width: canvas.width, height: canvas.height };
}
"""


def js_grid_ms(shape: tuple[int, int, int], repeats: int) -> dict:
    """Chromium's drawGrid on an (H, W, C) map: per-redraw ms, a breakdown, the canvas size."""
    height, width, channels = shape
    with chromium() as browser:
        page = browser.new_page()
        url = serve_files(page, MOUNTS, "<!doctype html><title>grid bench</title><body></body>")
        page.goto(url)
        args = {"height": height, "width": width, "channels": channels}
        return page.evaluate(JS_TIME_GRID, {**args, "repeats": repeats, "warmup": 3})


def matplotlib_png(data: np.ndarray, reuse: dict | None = None) -> bytes:
    """What a teacher writes: 8x8 subplots, one imshow per channel, savefig to PNG (Agg)."""
    from matplotlib.figure import Figure

    channels = data.shape[-1]
    cols = int(np.ceil(np.sqrt(channels)))
    rows = int(np.ceil(channels / cols))
    if reuse is not None and "images" in reuse:  # the tuned variant: same figure, new data
        for c, image in enumerate(reuse["images"]):
            image.set_data(data[:, :, c])
        fig = reuse["fig"]
    else:
        fig = Figure(figsize=(8, 8))
        axes = fig.subplots(rows, cols).ravel()
        images = []
        for c, ax in enumerate(axes):
            ax.axis("off")
            if c < channels:
                images.append(ax.imshow(data[:, :, c], cmap="viridis"))
        if reuse is not None:
            reuse.update(fig=fig, images=images)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=72)
    return buffer.getvalue()


def matplotlib_seconds(data: np.ndarray, repeats: int, reuse: bool) -> list[float]:
    """Seconds per matplotlib redraw (fresh figure each time, or one figure reused)."""
    state: dict | None = {} if reuse else None
    matplotlib_png(data, state)  # warm-up: imports, font cache
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        png = matplotlib_png(data, state)
        samples.append(time.perf_counter() - start)
        assert png.startswith(b"\x89PNG")
    return samples


def ratio_text(ratio: float) -> str:
    """A speed-up as text: '12x faster' (one decimal below 10)."""
    return f"{ratio:.1f}x faster" if ratio < 10 else f"{ratio:.0f}x faster"


def run(quick: bool = False) -> list[Section]:
    """Median redraw times of both renderers and their ratio."""
    section = Section(2, "Redraw of a 64-channel grid")
    js_repeats, mpl_repeats = (10, 2) if quick else (60, 7)
    rng = np.random.default_rng(0)
    cases = [((64, 64, 64), "64 channels of 64x64"), ((16, 16, 64), "zoo conv3_x: 64 of 16x16")]
    if quick:
        cases = cases[:1]
    for shape, label in cases:
        js = js_grid_ms(shape, js_repeats)
        ours = percentiles(js["samples"])
        parts = js["parts"]
        data = rng.random(shape, dtype=np.float32)
        fresh = percentiles(matplotlib_seconds(data, mpl_repeats, reuse=False))
        reused = percentiles(matplotlib_seconds(data, mpl_repeats, reuse=True))
        ratio = fresh["p50"] * 1000 / ours["p50"]
        section.rows.append(
            Row(
                f"{label}: drawGrid in Chromium vs plt 8x8 subplots -> PNG",
                f"{ours['p50']:.2f} ms (p95 {ours['p95']:.2f})",
                ms(fresh["p50"]),
                ratio_text(ratio),
                f">= {TARGET:.0f}x",
                ratio >= TARGET,
            )
        )
        tuned = reused["p50"] * 1000 / ours["p50"]
        section.rows.append(
            Row(
                f"{label}: vs a reused figure (set_data, savefig only)",
                f"{ours['p50']:.2f} ms",
                ms(reused["p50"]),
                ratio_text(tuned),
            )
        )
        section.notes.append(
            f"- {label}: canvas {js['width']}x{js['height']} px; drawGrid median of {ours['n']} "
            f"redraws (after 3 warm-ups), matplotlib median of {fresh['n']} (Agg, 72 dpi). "
            f"Parts of a redraw (medians, ms): per-channel ranges {parts['ranges']:.2f}, "
            f"putImageData {parts['put']:.2f}; mapping every value to a colour through a "
            f"256-entry table {parts['lut']:.2f}, through `colourOf` per pixel (drawGrid's way "
            f"before it got colour tables) {parts['colourOf']:.2f}."
        )
    section.notes.append(
        "- Ours: `drawGrid` from `js/src/lib/grid.js` loaded as an ES module in a blank "
        "Chromium page, per-channel normalisation and colour map included, timed with "
        "`performance.now()` up to a `getImageData` read-back. Baseline: `Figure` + "
        "`subplots(8, 8)` + `imshow` per channel + `savefig(format='png')`, the hand-written "
        "version; the reused-figure row is a stricter baseline a tuned notebook could reach."
    )
    return [section]
