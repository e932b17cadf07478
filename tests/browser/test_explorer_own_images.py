"""Your own images in a real JupyterLab: the file picker, a drop, a bad file, the fake camera."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from .explorer_view import ExplorerView
from .jupyter_host import NotebookPage
from .probe import canvas_pixels, wait_attr_change

pytestmark = pytest.mark.browser

CELLS = ["from deconv_widgets import Explorer\nex = Explorer()\nex"]

# Drop files built in the page (name, bytes) on an element: dragenter, dragover, drop.
JS_DROP = """
(a) => {
  const dt = new DataTransfer();
  for (const f of a.files) {
    const data = f.bytes ? new Uint8Array(f.bytes) : new Uint8Array(f.size);
    dt.items.add(new File([data], f.name, {type: f.type}));
  }
  const event = (type) => new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true});
  const [over, drop] = [event('dragover'), event('drop')];
  a.el.dispatchEvent(event('dragenter'));
  a.el.dispatchEvent(over);
  a.el.dispatchEvent(drop);
  return over.defaultPrevented && drop.defaultPrevented;
}
"""

# Record every stream the page's getUserMedia hands out, to check each track ends.
JS_RECORD_STREAMS = """
() => {
  const md = navigator.mediaDevices;
  if (!window.__streams) {
    window.__streams = [];
    const original = md.getUserMedia.bind(md);
    md.getUserMedia = async (c) => {
      const s = await original(c);
      window.__streams.push(s);
      return s;
    };
  }
  return true;
}
"""

# Log every text the status line shows (projection notes follow the camera's quickly).
JS_LOG_STATUS = """
(el) => {
  el.__log = [el.textContent];
  new MutationObserver(() => el.__log.push(el.textContent))
    .observe(el, {childList: true, characterData: true, subtree: true});
  return true;
}
"""

JS_TRACKS = """
() => window.__streams.flatMap((s) => s.getTracks().map((t) => t.readyState))
"""


def picture_png(width: int = 120, height: int = 80) -> bytes:
    """A PNG of a colour gradient with a bright square (wider than the model's 64 x 64)."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // width, y * 255 // height, np.full_like(x, 90)], -1)
    rgb[20:50, 50:80] = 250
    buffer = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8), "RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def python(nb: NotebookPage, expr: str) -> str:
    """Print a Python expression in the notebook's kernel."""
    return nb.run(f"print({expr})").strip()


def open_explorer(open_notebook) -> ExplorerView:
    view = ExplorerView(open_notebook(CELLS), cell=0)
    view.wait_ready()
    return view


def wait_status(view: ExplorerView, prefix: str, timeout: float = 30) -> str:
    """Wait until the status line starts with `prefix`; return its text."""
    view.nb.page.wait_for_function(
        "(a) => a.el.textContent.startsWith(a.prefix)",
        arg={"el": view.status.element_handle(), "prefix": prefix},
        timeout=timeout * 1000,
        polling=20,
    )
    return view.status.text_content()


def wait_count(view: ExplorerView, n: int, timeout: float = 30) -> None:
    """Wait until the image picker says `of n` (n_images reached the page)."""
    count = view.root.get_by_test_id("image-index").locator("xpath=..").locator("span")
    view.nb.page.wait_for_function(
        "(a) => a.el.textContent === a.text",
        arg={"el": count.element_handle(), "text": f"of {n}"},
        timeout=timeout * 1000,
    )


def test_picker_drop_and_bad_files(open_notebook, tmp_path: Path) -> None:
    """A picked PNG and a dropped one become new images; a bad or too big file is a status line."""
    view = open_explorer(open_notebook)
    nb, root = view.nb, view.root
    n = int(python(nb, "ex.n_images"))
    image = root.get_by_test_id("input-image")
    before = canvas_pixels(image)["hash"]
    version = view.projection.get_attribute("data-version")

    # the file picker
    path = tmp_path / "my picture.png"
    path.write_bytes(picture_png())
    root.get_by_test_id("image-upload").set_input_files(str(path))
    assert wait_status(view, f"added image {n}: my picture.png")
    wait_count(view, n + 1)
    deadline = time.monotonic() + 30
    while canvas_pixels(image)["hash"] == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert canvas_pixels(image)["hash"] != before, "the input image did not redraw"
    wait_attr_change(nb.page, view.projection, "data-version", version, 60)  # its projection
    assert python(nb, "ex.n_images, ex.image_index") == f"{n + 1} {n}"

    # a synthetic drop on the input image
    dropped = {"name": "dropped.png", "type": "image/png", "bytes": list(picture_png(64, 90))}
    figure = image.locator("xpath=..")
    assert nb.page.evaluate(JS_DROP, {"el": figure.element_handle(), "files": [dropped]})
    assert wait_status(view, f"added image {n + 1}: dropped.png")
    wait_count(view, n + 2)

    # text renamed .png: a status line, nothing else changes
    hash_now = canvas_pixels(image)["hash"]
    root.get_by_test_id("image-upload").set_input_files(
        files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"just some text"}]
    )
    text = wait_status(view, "error")
    assert text.startswith("error: notes.png: ") and "not a picture" in text, text
    assert view.status.evaluate("(el) => el.classList.contains('dw-error')")
    assert python(nb, "ex.n_images, ex.image_index") == f"{n + 2} {n + 1}"
    assert canvas_pixels(image)["hash"] == hash_now

    # above 20 MB: refused by the page, the same words in the status line, nothing sent
    big = {"name": "big.png", "type": "image/png", "size": 21 * 2**20}
    assert nb.page.evaluate(JS_DROP, {"el": figure.element_handle(), "files": [big]})
    assert wait_status(view, "error: big.png") == (
        "error: big.png: 21.0 MB is above the limit of 20 MB; save a smaller picture"
    )
    assert python(nb, "ex.n_images") == str(n + 2)
    assert not nb.console_errors, nb.console_errors


def wait_logged(view: ExplorerView, prefix: str, timeout: float = 30) -> str:
    """Wait until the status line has shown a text starting with `prefix` (JS_LOG_STATUS)."""
    found = view.nb.page.wait_for_function(
        "(a) => a.el.__log.find((t) => t.startsWith(a.prefix))",
        arg={"el": view.status.element_handle(), "prefix": prefix},
        timeout=timeout * 1000,
        polling=20,
    )
    return found.json_value()


def frames_sent(root: Any) -> int:
    return int(root.get_by_test_id("own-images").get_attribute("data-frames-sent"))


def test_the_fake_camera_streams_projections_and_is_released(open_notebook) -> None:
    """On: projections keep coming; off: they stop and every track has ended; freeze keeps one."""
    view = open_explorer(open_notebook)
    nb, root, page = view.nb, view.root, view.nb.page
    nb.context.grant_permissions(["camera"], origin=nb.server.url)
    page.evaluate(JS_RECORD_STREAMS)
    view.status.evaluate(JS_LOG_STATUS)
    camera, freeze = root.get_by_test_id("camera"), root.get_by_test_id("freeze")
    n = int(python(nb, "ex.n_images"))
    assert camera.get_attribute("data-state") == "off" and freeze.is_disabled()

    camera.click()
    page.wait_for_function(
        "(el) => el.dataset.state === 'on'", arg=camera.element_handle(), timeout=30_000
    )
    assert camera.get_attribute("aria-pressed") == "true" and freeze.is_enabled()
    on = "camera on: the deconvnet projection follows the frames"
    assert wait_logged(view, "camera on") == on
    # projections keep coming: the image the shown projections belong to advances, again and again
    seen = []
    deadline = time.monotonic() + 60
    while len(set(seen)) < 5 and time.monotonic() < deadline:
        seen.append(int(python(nb, "ex.proj_key['image']")))
        time.sleep(0.3)
    assert len(set(seen)) >= 5 and seen == sorted(seen), seen
    hook = root.get_by_test_id("own-images").element_handle()
    page.wait_for_function("(el) => Number(el.dataset.framesSent) >= 5", arg=hook)
    assert int(python(nb, "ex.frames")) >= 5
    assert python(nb, "ex.n_images") == str(n)  # frames are shown, not kept

    # off: the frames stop, every track has ended, the video holds no stream
    camera.click()
    assert camera.get_attribute("data-state") == "off"
    assert wait_logged(view, "camera off") == "camera off"
    time.sleep(0.5)  # a frame in flight is answered
    sent, handled = frames_sent(root), int(python(nb, "ex.frames"))
    assert handled <= sent
    time.sleep(1.5)
    assert (frames_sent(root), int(python(nb, "ex.frames"))) == (sent, handled)
    states = page.evaluate(JS_TRACKS)
    assert states and all(s == "ended" for s in states), states
    assert root.locator("video").evaluate("(v) => v.srcObject === null")

    # on again, then freeze: the frame is kept as a new image and the camera stops
    camera.click()
    page.wait_for_function(
        "(a) => Number(a.el.dataset.framesSent) >= a.n",
        arg={"el": root.get_by_test_id("own-images").element_handle(), "n": sent + 3},
        timeout=30_000,
    )
    freeze.click()
    assert wait_logged(view, "kept the camera frame") == f"kept the camera frame as image {n}"
    wait_count(view, n + 1)
    assert camera.get_attribute("data-state") == "off" and freeze.is_disabled()
    assert python(nb, "ex.n_images, ex.image_index") == f"{n + 1} {n}"
    states = page.evaluate(JS_TRACKS)
    assert len(states) == 2 and all(s == "ended" for s in states), states
    assert not nb.console_errors, nb.console_errors


def test_a_refused_camera_is_a_status_line(open_notebook) -> None:
    """Without the permission (headless denies it), the status line says so; the toggle is off."""
    view = open_explorer(open_notebook)
    camera = view.root.get_by_test_id("camera")
    camera.click()
    text = wait_status(view, "error")
    assert text.startswith("error: camera: permission refused (NotAllowedError"), text
    assert camera.get_attribute("data-state") == "off"
    assert camera.get_attribute("aria-pressed") == "false"
    assert view.root.get_by_test_id("freeze").is_disabled()
    assert python(view.nb, "ex.frames") == "0"
