"""Benchmark 4: top_k over a stream of zoo images vs a forward pass only; peak RSS per size.

Every (mode, size) runs in a fresh interpreter, so `ru_maxrss` is that run's own peak.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Iterator

import numpy as np

from bench.common import REPO_ROOT, Row, Section, fresh_python

LAYER = "conv3_2"
BATCH = 256
POOL = 1024  # distinct images the stream draws from (generated once, outside the clock)
K = 9
TARGET = 0.8
FLAT = 1.10  # peak RSS at the big size within 10 % of the small size's
READ_SECONDS: list[float] = []  # seconds spent reading every channel's hits (their projections)


def stream(pool: np.ndarray, n: int, random_seed: int) -> Iterator[np.ndarray]:
    """Yield `n` images in batches of BATCH, each batch a fresh copy drawn from the pool."""
    rng = np.random.default_rng(random_seed)
    for start in range(0, n, BATCH):
        yield pool[rng.integers(0, len(pool), min(BATCH, n - start))]


def child(mode: str, n: int) -> dict:
    """In a fresh interpreter: warm up, then time `mode` over n images; report the peak RSS."""
    import keras

    from deconv_widgets import Projector, zoo
    from deconv_widgets._tf import tf

    model = zoo.shapes_model()
    pool = zoo.shapes_images(POOL, random_seed=7)[0]
    if mode in ("topk", "topk1"):
        projector = Projector(model)
        channels = [7] if mode == "topk1" else None  # one channel: what the Explorer asks

        def consume(images: Iterator[np.ndarray]) -> None:
            result = projector.top_k(images, LAYER, k=K, channels=channels, progress=False)
            start = time.perf_counter()  # projections are made when a channel's hits are read
            dict(result.hits)
            READ_SECONDS.append(time.perf_counter() - start)

    elif mode == "forward":
        sub = keras.Model(model.inputs, model.get_layer(LAYER).output)
        spec = tf.TensorSpec((None, *model.input.shape[1:]), tf.float32)
        forward = tf.function(lambda x: sub(x, training=False), input_signature=[spec])

        def consume(images: Iterator[np.ndarray]) -> None:
            for batch in images:
                forward(tf.constant(batch)).numpy()

    else:
        raise ValueError(f"unknown mode {mode!r}; choose one of: topk, topk1, forward")
    consume(stream(pool, 2 * BATCH, random_seed=1))  # warm-up: traces and allocator pools
    warm_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start, cpu = time.perf_counter(), time.process_time()
    consume(stream(pool, n, random_seed=2))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    read = READ_SECONDS[-1] if READ_SECONDS else 0.0
    return {
        "mode": mode,
        "n": n,
        "seconds": seconds - read,  # the search itself
        "read_seconds": read,  # then reading every hit (projecting them all)
        "cpu": cpu,
        "warm_kib": warm_rss,
        "peak_kib": peak,
    }


def measure(mode: str, n: int) -> dict:
    """Run child(mode, n) in a fresh interpreter and return its JSON."""
    code = f"from bench.b4_topk import main; main(['--mode', {mode!r}, '--n', '{n}'])"
    out = fresh_python(code, timeout=900)
    return json.loads(out.strip().splitlines()[-1])


def run(quick: bool = False) -> list[Section]:
    """Throughput ratio top_k / forward at two stream sizes, and peak RSS growth."""
    section = Section(4, "top_k throughput and peak memory over a stream")
    sizes = (300, 1200) if quick else (1000, 10000)
    modes = ("forward", "topk") if quick else ("forward", "topk", "topk1")
    results = {(mode, n): measure(mode, n) for n in sizes for mode in modes}
    for n in sizes:
        fwd = results[("forward", n)]
        fwd_rate = n / fwd["seconds"]
        variants = (
            ("topk", f"top_k (k={K}, all 64 channels of {LAYER}) over {n} images", True),
            ("topk1", f"top_k (k={K}, one channel, as the Explorer asks) over {n} images", False),
        )
        for mode, label, official in variants:
            if (mode, n) not in results:
                continue
            mine = results[(mode, n)]
            rate = n / mine["seconds"]
            ratio = rate / fwd_rate
            section.rows.append(
                Row(
                    label,
                    f"{rate:.0f} img/s ({mine['seconds']:.1f} s)",
                    f"{fwd_rate:.0f} img/s ({fwd['seconds']:.1f} s)",
                    f"{ratio:.2f}x forward's throughput",
                    f">= {TARGET}x" if official else "—",
                    ratio >= TARGET if official else None,
                )
            )
        cpu = ", ".join(
            f"{mode} {fwd['cpu'] / results[(mode, n)]['cpu']:.2f}x" for mode in modes[1:]
        )
        every = results[("topk", n)]
        all_rate = n / (every["seconds"] + every["read_seconds"])
        section.rows.append(
            Row(
                f"top_k over {n} images, then reading every channel's hits ({K * 64} projections)",
                f"{all_rate:.0f} img/s (+{every['read_seconds']:.2f} s to read)",
                f"{fwd_rate:.0f} img/s",
                f"{all_rate / fwd_rate:.2f}x forward's throughput",
                "—",
                None,
            )
        )
        finish_text = (
            f" Hits are projected when a channel's hits are first read: reading all {K * 64} "
            f"took {every['read_seconds']:.2f} s (included in the CPU ratio)."
        )
        section.notes.append(
            f"- {n} images, the same ratios in process CPU time (both cores summed, so "
            f"multi-threaded parts weigh more than in wall time): {cpu} (forward "
            f"{fwd['cpu']:.1f} CPU s).{finish_text}"
        )
    small, big = sizes
    memory = (("topk", "top_k"), ("forward", "forward only"))
    for mode, label in memory:
        if (mode, small) not in results:
            continue
        a, b = results[(mode, small)]["peak_kib"], results[(mode, big)]["peak_kib"]
        growth = b / a
        section.rows.append(
            Row(
                f"{label}: peak RSS at {small} -> {big} images",
                f"{a / 1024:.0f} -> {b / 1024:.0f} MiB",
                ratio=f"{growth:.2f}x",
                target=f"flat (<= {FLAT:.2f}x)" if mode == "topk" else "—",
                met=growth <= FLAT if mode == "topk" else None,
            )
        )
    warm = ", ".join(
        f"{mode} {n}: {r['warm_kib'] / 1024:.0f} MiB" for (mode, n), r in results.items()
    )
    section.notes += [
        f"- Stream: batches of {BATCH} zoo images (64x64x1) from a generator, each batch a "
        f"fresh copy drawn from a pool of {POOL} images made once before the clock starts, so "
        "generating shapes is not timed and the stream is never whole in memory. Each "
        "(mode, size) runs in a fresh interpreter after a 512-image warm-up; peak RSS is "
        "`ru_maxrss` of that interpreter.",
        f"- Ours: `Projector.top_k(stream, '{LAYER}', k={K}, progress=False)`: the search, "
        f"hits with their patches; each channel's deconv projections are made when its hits "
        f"are first read (the 'then reading' rows time reading all {K * 64}). Baseline: a "
        f"`tf.function` over a Keras sub-model to {LAYER}, `.numpy()` per batch.",
        f"- RSS after warm-up (before the timed stream): {warm}.",
    ]
    return [section]


def main(argv: list[str] | None = None) -> None:
    """Child entry point: print one JSON line for a (mode, n) measurement."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", required=True)
    parser.add_argument("--n", type=int, required=True)
    args = parser.parse_args(argv)
    print(json.dumps(child(args.mode, args.n)), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    main()
