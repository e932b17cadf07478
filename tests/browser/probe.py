"""Read widgets back from the page: canvas pixels, hook attributes, click-to-redraw latency."""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from .jupyter_host import ARTIFACTS

# Copy the canvas (2d or WebGL) onto a scratch 2d canvas and summarise its pixels: size,
# number of distinct RGBA values, min/max luminance and an FNV-1a hash to compare frames.
JS_CANVAS_PIXELS = """
(canvas) => {
  const w = canvas.width, h = canvas.height;
  if (!w || !h) return {width: w, height: h, distinct: 0, hash: 0, min: 0, max: 0};
  const scratch = document.createElement('canvas');
  scratch.width = w; scratch.height = h;
  const ctx = scratch.getContext('2d');
  ctx.drawImage(canvas, 0, 0);
  const data = ctx.getImageData(0, 0, w, h).data;
  const seen = new Set();
  let hash = 0x811c9dc5, min = 255, max = 0;
  for (let i = 0; i < data.length; i += 4) {
    const rgba = (data[i] << 24) ^ (data[i + 1] << 16) ^ (data[i + 2] << 8) ^ data[i + 3];
    if (seen.size < 4096) seen.add(rgba);
    const lum = (data[i] + data[i + 1] + data[i + 2]) / 3;
    if (lum < min) min = lum;
    if (lum > max) max = lum;
    for (let k = 0; k < 4; k++) { hash ^= data[i + k]; hash = Math.imul(hash, 0x01000193) >>> 0; }
  }
  return {width: w, height: h, distinct: seen.size, hash, min, max};
}
"""

# Watch one element's data-version: every change is stamped with performance.now(), and with
# the time of the next animation frame (the redraw is on screen by then).
JS_WATCH_VERSION = """
(el) => {
  if (el.__versionLog) return true;
  const log = [];
  el.__versionLog = log;
  new MutationObserver(() => {
    const entry = {version: el.getAttribute('data-version'),
                   channel: el.getAttribute('data-channel'), at: performance.now(), frame: null};
    log.push(entry);
    requestAnimationFrame(() => { entry.frame = performance.now(); });
  }).observe(el, {attributes: true, attributeFilter: ['data-version']});
  return true;
}
"""

# Stamp every pointerdown on an element (capture phase, before the widget's own handler).
JS_WATCH_CLICKS = """
(el) => {
  if (el.__clickLog) return true;
  const log = [];
  el.__clickLog = log;
  el.addEventListener('pointerdown', () => log.push(performance.now()), {capture: true});
  return true;
}
"""


def canvas_pixels(locator: Any) -> dict[str, Any]:
    """Pixel summary of the canvas under `locator` (see JS_CANVAS_PIXELS)."""
    return locator.evaluate(JS_CANVAS_PIXELS)


def assert_drawn(locator: Any, what: str) -> dict[str, Any]:
    """Assert the canvas has a size and its pixels vary (not blank, not one flat colour)."""
    pixels = canvas_pixels(locator)
    assert pixels["width"] > 0 and pixels["height"] > 0, f"{what}: empty canvas {pixels}"
    assert pixels["distinct"] >= 3 and pixels["max"] > pixels["min"], f"{what}: flat {pixels}"
    return pixels


def wait_attr_change(page: Any, locator: Any, name: str, old: str | None, timeout: float = 30):
    """Wait until the element's attribute `name` differs from `old`; return the new value."""
    page.wait_for_function(
        "(a) => a.el.getAttribute(a.name) !== a.old",
        arg={"el": locator.element_handle(), "name": name, "old": old},
        timeout=timeout * 1000,
        polling=20,
    )
    return locator.get_attribute(name)


JOB_DONE = '[data-testid="job"][data-job-kind="%s"][data-state="done"]'


def jobs_done(root: Any, kind: str) -> int:
    """How many rows of the widget's job bar say a job of `kind` is done."""
    return int(root.locator(JOB_DONE % kind).count())


def wait_jobs_done(page: Any, root: Any, kind: str, count: int, timeout: float = 60) -> None:
    """Wait until the job bar has `count` rows of `kind` jobs that are done."""
    page.wait_for_function(
        "(a) => a.el.querySelectorAll(a.selector).length >= a.count",
        arg={"el": root.element_handle(), "selector": JOB_DONE % kind, "count": count},
        timeout=timeout * 1000,
        polling=50,
    )


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 / p95 / max / mean of latency samples in milliseconds."""
    ordered = sorted(samples)
    p95_index = min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[p95_index], 2),
        "max_ms": round(ordered[-1], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


def lattice(box: dict[str, float], n: int = 8) -> list[tuple[float, float]]:
    """Centres of an n x n subdivision of a bounding box, relative to its top-left corner."""
    return [
        ((col + 0.5) * box["width"] / n, (row + 0.5) * box["height"] / n)
        for row in range(n)
        for col in range(n)
    ]


def click_and_read(grid: Any, position: tuple[float, float]) -> str | None:
    """Click the grid at a position; the grid marks its selection during the click itself."""
    grid.click(position={"x": position[0], "y": position[1]})
    return grid.get_attribute("data-channel")


def watch(projection: Any, grid: Any) -> None:
    """Install the version observer on the projection and the click stamp on the grid."""
    projection.evaluate(JS_WATCH_VERSION)
    grid.evaluate(JS_WATCH_CLICKS)


def logs(projection: Any, grid: Any) -> tuple[list[dict[str, Any]], list[float]]:
    """The version changes and click stamps recorded so far."""
    versions = projection.evaluate("(el) => el.__versionLog.slice()")
    clicks = grid.evaluate("(el) => el.__clickLog.slice()")
    return versions, clicks


def wait_drawn(locator: Any, what: str, timeout: float = 90.0) -> dict[str, Any]:
    """Wait for the canvas to be attached and visible, then for its pixels to vary."""
    locator.wait_for(state="visible", timeout=timeout * 1000)
    deadline = time.monotonic() + timeout
    pixels = canvas_pixels(locator)
    while time.monotonic() < deadline:
        pixels = canvas_pixels(locator)
        if pixels["width"] and pixels["distinct"] >= 3 and pixels["max"] > pixels["min"]:
            return pixels
        time.sleep(0.2)
    raise AssertionError(f"{what} never drew varying pixels in {timeout} s: {pixels}")


def record_latency(key: str, record: dict[str, Any]) -> None:
    """Merge a measurement into tests/artifacts/latency.json under `key`, and print it."""
    path = ARTIFACTS / "latency.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results[key] = record
    path.write_text(json.dumps(results, indent=2))
    print(f"\n{key}: {json.dumps(record)}")
