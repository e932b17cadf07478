"""The Explorer's worker in one process: an asyncio loop stands in for the kernel's own.

A widget built in a kernel computes on its worker thread and hands results to the kernel's
event loop; built outside one (plain Python, a script's own loop) it computes on the calling
thread. Here `kernel_loop` is pointed at a test's own loop, run on a fresh thread (the
session's Playwright keeps a loop marked running on the main thread); tests in a real kernel
are in test_widgets_live_kernel.py.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

import numpy as np
import pytest
from helpers import floats

from deconv_widgets import Explorer, Projector
from deconv_widgets.methods import NAMES
from deconv_widgets.widgets import _picks, _projection
from deconv_widgets.widgets._live import Store

IMAGES = (4, 3)  # (n, random_seed) of the conftest's `images`


async def settle(explorer: Explorer, timeout: float = 60.0) -> None:
    """Yield to the loop (results arrive through call_soon_threadsafe) until the pick is in."""
    deadline = time.monotonic() + timeout
    while explorer._published != (explorer._want, tuple(explorer.methods)):
        assert time.monotonic() < deadline, f"no result after {timeout} s: {explorer.status!r}"
        await asyncio.sleep(0.01)


def in_a_kernel_loop(main: Callable[[], Awaitable[None]], monkeypatch) -> None:
    """Run `main()` on a fresh thread's asyncio loop, treated as a kernel's loop by widgets."""
    monkeypatch.setattr(_projection, "kernel_loop", asyncio.get_running_loop)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as err:  # re-raised on the test's thread
            failures.append(err)

    thread = threading.Thread(target=run, name="test kernel loop")
    thread.start()
    thread.join(300)
    assert not thread.is_alive(), "the test's loop did not finish in 300 s"
    if failures:
        raise failures[0]


def recorded_messages(explorer: Explorer) -> list[tuple[dict, list]]:
    """Record what the widget sends to the page (the real send still runs)."""
    sent: list[tuple[dict, list]] = []
    original = explorer.send

    def send(content, buffers=None):
        sent.append((content, list(buffers or [])))
        original(content, buffers)

    explorer.send = send
    return sent


# ---------------------------------------------------------------------------- the store
def test_store_keeps_within_its_budget_least_recently_used_first() -> None:
    one = np.zeros((1, 4, 4, 1), np.float32)  # 64 bytes
    store = Store(budget=3 * one.nbytes)
    keys = [("l", "activation", 1, c) for c in range(4)]
    for key in keys[:3]:
        store.put(key, "guided", one)
    assert store.get(keys[0], "guided") is one  # now the most recently used
    store.put(keys[3], "guided", one)
    assert not store.has(keys[1], "guided")  # the least recently used went
    assert all(store.has(k, "guided") for k in (keys[0], keys[2], keys[3]))
    assert store.nbytes == 3 * one.nbytes
    big = np.zeros((1, 64, 64, 1), np.float32)  # alone over the budget: kept, the rest evicted
    store.put(keys[1], "guided", big)
    assert len(store) == 1 and store.get(keys[1], "guided") is big
    store.put(keys[2], "deconvnet", "method 'deconvnet' cannot project through ...")
    assert store.get(keys[2], "deconvnet").startswith("method")


# ---------------------------------------------------------------------- without a loop
def test_plain_python_computes_on_the_calling_thread(model, images) -> None:
    explorer = Explorer(model, images, layer="conv2_1", channel=3)
    assert explorer._loop is None and explorer._worker.thread is None
    explorer.wait(timeout=0.1)  # already there: returns at once
    explorer.channel = 5
    assert explorer.proj_methods == list(NAMES)
    assert explorer._worker.thread is None  # no thread was ever started


def test_a_loop_that_is_not_a_kernels_computes_on_the_calling_thread(model, images) -> None:
    async def main() -> list[str]:
        explorer = Explorer(model, images, layer="conv2_1", channel=3)
        explorer.channel = 4  # no kernel: nothing would ever run the worker's callbacks
        return [explorer._loop is None, explorer._worker.thread is None, explorer.proj_methods]

    results: list = []
    thread = threading.Thread(target=lambda: results.append(asyncio.run(main())))
    thread.start()
    thread.join(120)
    assert results == [[True, True, list(NAMES)]]


# ------------------------------------------------------------------------- with a loop
@pytest.mark.slow("runs an asyncio kernel loop with the worker thread, one channel a pick (~5 s)")
def test_in_a_loop_the_pick_computes_on_the_worker_and_arrives_through_the_loop(
    model, images, monkeypatch
) -> None:
    monkeypatch.setattr(_picks, "ALL_CHANNELS_LIMIT_BYTES", 0)  # one channel a pick

    async def main() -> None:
        explorer = Explorer(model, images, layer="conv3_1", channel=2, method="guided")
        try:
            assert explorer._loop is asyncio.get_running_loop()
            assert explorer.status.startswith("guided for channel 2")
            await settle(explorer)
            assert explorer._worker.thread.name.startswith("deconv-widgets Explorer")
            assert explorer._worker.thread is not threading.current_thread()
            assert explorer.status == "" and explorer.proj_channels == [2]
            got = floats(explorer.projections, explorer.proj_shape)
            for index, method in enumerate(explorer.proj_methods):
                expected = Projector(model).project(images[0], "conv3_1", 2, method=method)
                np.testing.assert_allclose(got[index, 0], expected, rtol=1e-5, atol=1e-6)
            # the shown method was computed first, the others after it
            passes = [m for key, m, pick in explorer._worker.passes if pick and key[3] == 2]
            assert passes == ["guided", *(m for m in NAMES if m != "guided")]
            # wait() on the loop's own thread applies the results itself (the loop is blocked)
            explorer.channel = 7
            explorer.wait(timeout=30)
            assert explorer.proj_channels == [7] and explorer.proj_methods == list(NAMES)
        finally:
            explorer.close()

    in_a_kernel_loop(main, monkeypatch)


def test_idle_prefetch_sends_the_strongest_channels_within_the_budget(
    model, images, monkeypatch
) -> None:
    monkeypatch.setattr(_picks, "ALL_CHANNELS_LIMIT_BYTES", 0)
    one = 64 * 64 * 1 * 4  # bytes of one projection of a 64x64 grey image
    monkeypatch.setattr(_projection, "CACHE_BUDGET_BYTES", 2 * 5 * one)  # prefetch: 5 channels

    async def main() -> None:
        explorer = Explorer(model, images, layer="conv3_1", channel=0, method="guided")
        sent = recorded_messages(explorer)
        try:
            await settle(explorer)
            await asyncio.sleep(0.5)
            assert not sent  # no page has shown the widget yet: no prefetch
            explorer._on_message(explorer, {"type": "view"}, [])  # what the page sends
            deadline = time.monotonic() + 60
            while len(sent) < 5 or explorer._worker.busy:
                assert time.monotonic() < deadline, f"prefetched {len(sent)} of 5"
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.2)
            strongest = explorer.strongest
            act = floats(explorer.activations, explorer.act_shape)
            peaks = act.reshape(-1, act.shape[-1]).max(axis=0)
            assert list(np.argsort(-peaks, kind="stable")) == strongest
            expected_channels = [c for c in strongest[:5] if c != 0]
            channels = [content["channel"] for content, _ in sent]
            assert channels == expected_channels  # strongest first, within the budget
            projector = Projector(model)
            for content, buffers in sent:
                assert content["type"] == "prefetched" and content["method"] == "guided"
                assert (content["layer"], content["seed"]) == ("conv3_1", "activation")
                assert content["image"] == explorer.image_version
                data = floats(bytes(buffers[0]), content["shape"])
                expected = projector.project(images[0], "conv3_1", content["channel"], "guided")
                np.testing.assert_allclose(data, expected, rtol=1e-5, atol=1e-6)
            # a click on a prefetched channel is answered from the store: no new pass for it
            before = len(explorer._worker.passes)
            explorer.channel = channels[0]
            assert explorer.proj_methods == ["guided"]  # at once, before the loop runs again
            await settle(explorer)
            new = [(key[3], m) for key, m, _ in explorer._worker.passes[before:]]
            assert (channels[0], "guided") not in new
            # a new image restarts the prefetch for that image
            sent.clear()
            explorer.image_index = 1
            await settle(explorer)
            deadline = time.monotonic() + 60
            while len(sent) < 4:
                assert time.monotonic() < deadline, f"prefetched {len(sent)} after a new image"
                await asyncio.sleep(0.02)
            assert {content["image"] for content, _ in sent} == {explorer.image_version}
            # a seed the shown method does not take: each would be its error, so none is run
            mark = len(explorer._worker.passes)
            explorer.method = "lrp_epsilon"
            explorer.seed = "ones"
            await settle(explorer)
            await asyncio.sleep(0.3)
            assert "does not start from seed 'ones'" in explorer.proj_errors["lrp_epsilon"]
            idle = [p for p in explorer._worker.passes[mark:] if not p[2] and p[0][1] == "ones"]
            assert idle == [] and not explorer._worker.busy
        finally:
            explorer.close()

    in_a_kernel_loop(main, monkeypatch)


def test_a_worker_error_shows_in_the_status_and_the_next_pick_works(
    model, images, monkeypatch
) -> None:
    monkeypatch.setattr(_picks, "ALL_CHANNELS_LIMIT_BYTES", 0)

    async def main() -> None:
        explorer = Explorer(model, images, layer="conv3_1", channel=1)
        try:
            await settle(explorer)
            projector = explorer._projector
            real = projector.project_many

            def failing(*args, **kwargs):
                raise RuntimeError("the GPU caught fire")

            projector.project_many = failing  # fault injection on this instance only
            explorer.channel = 4
            deadline = time.monotonic() + 30
            while "caught fire" not in explorer.status:
                assert time.monotonic() < deadline, explorer.status
                await asyncio.sleep(0.01)
            assert explorer.status == "error (RuntimeError): the GPU caught fire"
            with pytest.raises(RuntimeError, match="caught fire"):
                explorer.wait(timeout=5)
            assert explorer.channel == 4  # the pick stands; only its data is missing
            projector.project_many = real
            explorer.channel = 5
            await settle(explorer)
            assert explorer.status == "" and explorer.proj_channels == [5]
        finally:
            explorer.close()

    in_a_kernel_loop(main, monkeypatch)


@pytest.mark.slow("waits for a worker thread to end mid-compute in an asyncio loop (~5 s)")
def test_closing_mid_compute_ends_the_thread_quietly(model, images, monkeypatch) -> None:
    monkeypatch.setattr(_picks, "ALL_CHANNELS_LIMIT_BYTES", 0)

    async def main() -> None:
        explorer = Explorer(model, images, layer="conv3_1", channel=1)
        await settle(explorer)
        thread = explorer._worker.thread
        explorer.channel = 6  # computing now
        explorer.close()
        thread.join(10)
        assert not thread.is_alive()
        await asyncio.sleep(0.1)  # results still queued on the loop are dropped, no error
        explorer.channel = 7  # a closed widget ignores picks quietly
        await asyncio.sleep(0.1)
        assert not thread.is_alive()

    in_a_kernel_loop(main, monkeypatch)


def test_wait_times_out_with_the_pick_named(model, images, monkeypatch) -> None:
    monkeypatch.setattr(_picks, "ALL_CHANNELS_LIMIT_BYTES", 0)

    async def main() -> None:
        explorer = Explorer(model, images, layer="conv3_1", channel=1)
        try:
            gate = threading.Event()
            real = explorer._projector.project_many

            def slow(*args, **kwargs):
                gate.wait(10)
                return real(*args, **kwargs)

            explorer.wait(timeout=30)
            explorer._projector.project_many = slow
            explorer.channel = 3
            with pytest.raises(TimeoutError, match="channel 3"):
                explorer.wait(timeout=0.3)
            gate.set()
            explorer.wait(timeout=30)
            assert explorer.proj_channels == [3]
        finally:
            explorer.close()

    in_a_kernel_loop(main, monkeypatch)
