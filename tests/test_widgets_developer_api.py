"""What developers and scripts get: tracebacks on the logger, the choices as traits, frames."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from deconv_widgets.methods import NAMES
from deconv_widgets.projection import SEEDS
from deconv_widgets.widgets import DeconvView, Explorer

IMAGES = (3, 4)  # (n, random_seed) of the conftest's `images`


def test_a_bad_input_is_one_status_line_and_a_traceback_on_the_logger(explorer, caplog):
    with caplog.at_level(logging.DEBUG, logger="deconv_widgets"):
        explorer.channel = 999
    assert explorer.channel != 999 and "\n" not in explorer.status
    assert explorer.status.startswith("error: channel 999 is out of range")
    records = [r for r in caplog.records if r.name == "deconv_widgets" and r.exc_info]
    assert records and records[-1].levelno == logging.DEBUG  # a bad input, not a bug
    assert records[-1].exc_info[0] is ValueError
    assert "Traceback" in caplog.text and "check_index" in caplog.text


def test_a_bug_is_logged_at_error_level_with_its_traceback(explorer, caplog):
    def broken() -> None:
        raise RuntimeError("a bug in a button")

    with caplog.at_level(logging.DEBUG, logger="deconv_widgets"):
        assert explorer._safely(broken) is False
    assert explorer.status == "error (RuntimeError): a bug in a button"
    record = caplog.records[-1]
    assert record.levelno == logging.ERROR and record.exc_info[0] is RuntimeError
    assert "in broken" in caplog.text  # the frame that raised


def test_the_page_gets_methods_seeds_and_k_from_python(model, images, explorer):
    state = explorer.get_state()
    assert state["methods"] == list(NAMES) and state["seeds"] == list(SEEDS)
    assert state["topk_k"] == 9
    view = DeconvView(model, images[0], "conv2_1", 2)
    try:
        assert view.get_state()["methods"] == list(NAMES)
    finally:
        view.close()
    with pytest.raises(Exception, match="read-only"):
        explorer.methods = ["deconvnet"]


def test_camera_frame_and_wait_for_the_shown_method(model, images):
    rgb = np.random.default_rng(5).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    widget = Explorer(model, images, layer="conv2_1", method="guided")
    try:
        widget.wait()
        version = widget.image_version
        widget.camera_frame(rgb)
        widget.wait(60, shown_only=True)
        assert widget.frames == 1 and widget.image_version == version + 1
        assert widget.proj_key["image"] == widget.image_version
        assert "guided" in widget.proj_methods
        with pytest.raises(ValueError, match=r"a camera frame must be RGB bytes of shape \[64"):
            widget.camera_frame(rgb[:32])
    finally:
        widget.close()


def test_log_output_shows_the_traceback_in_a_notebook_cell_until_closed(explorer):
    from deconv_widgets.widgets import log_output

    output = log_output()
    explorer.channel = 999
    text = "".join(item.get("text", "") for item in output.outputs)
    assert "DEBUG deconv_widgets: Explorer: error: channel 999 is out of range" in text
    assert "Traceback (most recent call last)" in text and "ValueError" in text
    output.close()
    explorer.channel = 998
    after = "".join(item.get("text", "") for item in output.outputs)
    assert after == text  # closed: detached from the log


def test_unpool_view_random_seed_below_zero_is_reported_not_raised():
    from deconv_widgets.widgets import UnpoolView

    view = UnpoolView(random_seed=2)
    text = view.input_text
    view.random_seed = -3
    assert view.random_seed == 2 and view.input_text == text
    assert view.status == "error: random_seed must be an int >= 0, got -3"
    with pytest.raises(ValueError, match="random_seed must be an int >= 0, got -1"):
        UnpoolView(random_seed=-1)


def test_unpool_view_still_takes_the_old_seed_name_with_a_deprecation_warning():
    from deconv_widgets.widgets import UnpoolView

    with pytest.warns(DeprecationWarning, match=r"use random_seed="):
        old = UnpoolView(seed=4)
    assert old.random_seed == 4 and old.input_text == UnpoolView(random_seed=4).input_text
    with pytest.raises(TypeError, match="got both random_seed and seed"):
        UnpoolView(seed=4, random_seed=4)
