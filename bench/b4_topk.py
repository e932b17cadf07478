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


def stream(pool: np.ndarray, n: int, seed: int) -> Iterator[np.ndarray]:
    """n images in batches of BATCH, each batch a fresh copy drawn from the pool."""
    rng = np.random.default_rng(seed)
    for start in range(0, n, BATCH):
        yield pool[rng.integers(0, len(pool), min(BATCH, n - start))]


def child(mode: str, n: int) -> dict:
    """In a fresh interpreter: warm up, then time `mode` over n images; report the peak RSS."""
    import keras

    from deconv_widgets import Projector, zoo
    from deconv_widgets._tf import tf

    model = zoo.shapes_model()
    pool = zoo.shapes_images(POOL, seed=7)[0]
    if mode == "topk":
        projector = Projector(model)

        def consume(images: Iterator[np.ndarray]) -> None:
            projector.top_k(images, LAYER, k=K, progress=False)

    elif mode == "forward":
        sub = keras.Model(model.inputs, model.get_layer(LAYER).output)
        spec = tf.TensorSpec((None, *model.input.shape[1:]), tf.float32)
        forward = tf.function(lambda x: sub(x, training=False), input_signature=[spec])

        def consume(images: Iterator[np.ndarray]) -> None:
            for batch in images:
                forward(tf.constant(batch)).numpy()

    else:
        raise ValueError(f"unknown mode {mode!r}; choose one of: topk, forward")
    consume(stream(pool, 2 * BATCH, seed=1))  # warm-up: traces and allocator pools
    warm_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    consume(stream(pool, n, seed=2))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"mode": mode, "n": n, "seconds": seconds, "warm_kib": warm_rss, "peak_kib": peak}


def measure(mode: str, n: int) -> dict:
    """Run child(mode, n) in a fresh interpreter and return its JSON."""
    code = f"from bench.b4_topk import main; main(['--mode', {mode!r}, '--n', '{n}'])"
    out = fresh_python(code, timeout=900)
    return json.loads(out.strip().splitlines()[-1])


def run(quick: bool = False) -> list[Section]:
    """Throughput ratio top_k / forward at two stream sizes, and peak RSS growth."""
    section = Section(4, "top_k throughput and peak memory over a stream")
    sizes = (300, 1200) if quick else (1000, 10000)
    results = {(mode, n): measure(mode, n) for n in sizes for mode in ("forward", "topk")}
    for n in sizes:
        fwd, top = results[("forward", n)], results[("topk", n)]
        fwd_rate, top_rate = n / fwd["seconds"], n / top["seconds"]
        ratio = top_rate / fwd_rate
        section.rows.append(
            Row(
                f"top_k (k={K}, all 64 channels of {LAYER}) over {n} images: throughput",
                f"{top_rate:.0f} img/s ({top['seconds']:.1f} s)",
                f"{fwd_rate:.0f} img/s ({fwd['seconds']:.1f} s)",
                f"{ratio:.2f}x forward's throughput",
                f">= {TARGET}x",
                ratio >= TARGET,
            )
        )
    small, big = sizes
    for mode, label in (("topk", "top_k"), ("forward", "forward only")):
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
        f"- Ours: `Projector.top_k(stream, '{LAYER}', k={K}, progress=False)`, which includes "
        f"the {K * 64} deconv projections of the hits at the end. Baseline: a `tf.function` "
        f"over a Keras sub-model to {LAYER}, `.numpy()` per batch.",
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
