"""Issue 7 load: 1000 rapid channel switches from Python, and two Explorers on one model.

Correctness and memory assertions only (no timings): resident memory grows < 50 MB after a
warm-up, no graph is traced after it, the final state shows the last request, nothing raises.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import psutil
import pytest
from helpers import floats

from deconv_widgets.projection import Projector
from deconv_widgets.widgets import Explorer, _picks

SWITCHES = 1000
WARM_UP = 50
MAX_GROWTH = 50 * 2**20
IMAGES = (4, 11)  # (n, random_seed) of the conftest's `images`


def _rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


def _channels(count: int, n: int, random_seed: int) -> list[int]:
    return np.random.default_rng(random_seed).integers(0, count, n).tolist()


def _switch(explorer: Explorer, channels: list[int]) -> None:
    for channel in channels:
        explorer.channel = channel
        assert explorer.status == "", explorer.status


def _run_explorer(explorer: Explorer, name: str, random_seed: int) -> tuple[int, int]:
    count = explorer.act_shape[-1]
    _switch(explorer, _channels(count, WARM_UP, random_seed))
    traces, before = explorer._projector.trace_count, _rss()
    channels = _channels(count, SWITCHES, random_seed + 1)
    _switch(explorer, channels)
    growth = _rss() - before
    print(f"{name}: RSS growth over {SWITCHES} switches: {growth / 2**20:.1f} MiB")
    assert growth < MAX_GROWTH
    assert explorer._projector.trace_count == traces
    assert explorer.channel == channels[-1]
    return channels[-1], traces


@pytest.mark.slow("1000 channel switches, with the RSS measured (~5 s)")
def test_1000_channel_switches_on_an_explorer(model, images):
    explorer = Explorer(model, images, layer="conv3_1")
    assert explorer.proj_channels == list(range(explorer.act_shape[-1]))  # all on the page
    request = explorer.proj_key["request"]
    last, _ = _run_explorer(explorer, "explorer (all channels sent)", random_seed=0)
    assert explorer.proj_key["request"] == request  # a switch sends nothing new
    shown = floats(explorer.projections, explorer.proj_shape)[:, last]
    for index, method in enumerate(explorer.proj_methods):
        expected = Projector(model).project(images[0], "conv3_1", last, method=method)
        np.testing.assert_allclose(shown[index], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.slow("1000 on-demand picks, with the RSS measured (~3 s)")
def test_1000_channel_switches_on_demand(model, images, monkeypatch):
    monkeypatch.setattr(_picks, "ALL_CHANNELS_LIMIT_BYTES", 0)
    explorer = Explorer(model, images, layer="conv1_2", channel=0)
    assert explorer.proj_channels == [0]  # each switch projects the channel anew
    request = explorer.proj_key["request"]
    last, _ = _run_explorer(explorer, "explorer (on demand)", random_seed=2)
    assert explorer.proj_channels == [last]
    assert explorer.proj_key["request"] > request + SWITCHES // 2  # most switches recomputed
    shown = floats(explorer.projections, explorer.proj_shape)[0, 0]
    expected = Projector(model).project(images[0], "conv1_2", last)
    np.testing.assert_allclose(shown, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.slow("1000 projections, with the RSS measured (~5 s)")
def test_1000_projections_on_a_cached_image(model, images):
    projector = Projector(model)
    count = projector.layer_info("pool2").output_shape[-1]
    for channel in _channels(count, WARM_UP, 4):
        projector.project(images[1], "pool2", channel)
    traces, forwards, before = projector.trace_count, projector.forward_count, _rss()
    channels = _channels(count, SWITCHES, 5)
    for channel in channels:
        result = projector.project(images[1], "pool2", channel)
    growth = _rss() - before
    print(f"projector: RSS growth over {SWITCHES} projections: {growth / 2**20:.1f} MiB")
    assert growth < MAX_GROWTH
    assert projector.trace_count == traces and projector.forward_count == forwards == 1
    np.testing.assert_array_equal(
        result, Projector(model).project(images[1], "pool2", channels[-1])
    )


@pytest.mark.slow("two Explorers' worker threads picking at once (~5 s)")
def test_two_explorers_on_one_model_do_not_interfere(model, images):
    first = Explorer(model, images, layer="conv2_1", channel=3)
    second = Explorer(model, images, layer="conv2_1", channel=3)
    second_state = (second.layer, second.channel, second.method, second.seed, second.image_index)
    second_payload = (bytes(second.projections), bytes(second.activations), dict(second.proj_key))
    first.layer, first.channel, first.seed, first.image_index = "conv3_2", 40, "max", 2
    assert first.status == ""
    assert (
        second.layer,
        second.channel,
        second.method,
        second.seed,
        second.image_index,
    ) == second_state
    assert (bytes(second.projections), bytes(second.activations), dict(second.proj_key)) == (
        second_payload
    )
    second.channel = 7
    assert first.channel == 40 and first.layer == "conv3_2"
    reference = Projector(model)
    shown = floats(first.projections, first.proj_shape)[0, 40]
    expected = reference.project(images[2], "conv3_2", 40, seed="max")
    np.testing.assert_allclose(shown, expected, rtol=1e-5, atol=1e-6)
    shown = floats(second.projections, second.proj_shape)[0, 7]
    np.testing.assert_allclose(
        shown, reference.project(images[0], "conv2_1", 7), rtol=1e-5, atol=1e-6
    )


def test_top_k_streams_without_pinning_earlier_batches(model, images):
    """Memory bounded by k * channels images: a kept hit must not keep its whole batch alive."""
    projector = Projector(model)
    refs: list[weakref.ref] = []
    pinned: list[int] = []

    def stream():
        for scale in (1.0, 0.01, 0.01, 0.01):  # the strongest hits are all in the first batch
            batch = np.repeat(images[:2], 8, axis=0) * scale
            refs.append(weakref.ref(batch))
            yield batch
            del batch
            gc.collect()
            pinned.append(sum(ref() is not None for ref in refs))

    result = projector.top_k(stream(), "pool3", k=2, channels=[0, 1, 2], progress=False)
    assert {hit.image for hits in result.hits.values() for hit in hits} <= set(range(16))
    assert pinned == [1, 1, 1, 1]  # only the batch top_k is working on, never the first
