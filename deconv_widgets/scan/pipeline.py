"""The Beam pipeline: shards of files -> per-shard top-k -> merge -> projections -> the atlas.

Beside it, when asked, a stage of its own visualises every unit (VISUAL_CHANNELS to a task).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import apache_beam as beam
import numpy as np
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import PipelineOptions

from .. import methods
from ..projection import checks
from ..projection.steps import progress_reporter
from ..projection.topk import Strongest
from . import files, work
from .work import ScanSpec

NAMESPACE = "deconv_widgets.scan"
PART_CHANNELS = 16  # channels per projection task (a unit of work and of resumption)
VISUAL_CHANNELS = 8  # channels visualised in one batch (a unit of work and of resumption)


class TopKOfShard(beam.DoFn):
    """A shard number -> its top-k tables (computed once and kept under out, else read back)."""

    def __init__(self, spec: ScanSpec) -> None:
        self.spec = spec
        self.computed = Metrics.counter(NAMESPACE, "shards_computed")
        self.reused = Metrics.counter(NAMESPACE, "shards_reused")

    def process(self, shard: int) -> Iterator[dict[str, Any]]:
        """Yield the shard's tables and skipped files (computing and keeping them if new)."""
        _, computed = work.shard_topk(self.spec, shard)
        (self.computed if computed else self.reused).inc()
        yield work.shard_result(self.spec, shard)


class MergeTopK(beam.CombineFn):
    """Merge shards' top-k tables with top_k's tie rule; collect the files they skipped."""

    def __init__(self, k: int) -> None:
        self.k = k

    def create_accumulator(self) -> tuple[list[Strongest] | None, list]:
        """No tables yet (None) and no skipped files."""
        return None, []

    def add_input(self, accumulator: tuple, result: dict[str, Any]) -> tuple:
        """Merge one shard's result in."""
        tables = [work.strongest_of(table, self.k) for table in result["tables"]]
        return self._merge(accumulator, (tables, list(result["skipped"])))

    def merge_accumulators(self, accumulators: Any) -> tuple:
        """Merge the partial merges of several workers."""
        merged: tuple = self.create_accumulator()
        for accumulator in accumulators:
            merged = self._merge(merged, accumulator)
        return merged

    @staticmethod
    def _merge(left: tuple, right: tuple) -> tuple:
        """Two accumulators as one: the tables merged channel by channel, the skips joined."""
        if left[0] is None:
            return right[0], left[1] + right[1]
        if right[0] is None:
            return left[0], left[1] + right[1]
        return [a.merge(b) for a, b in zip(left[0], right[0], strict=True)], left[1] + right[1]

    def extract_output(self, accumulator: tuple) -> dict[str, Any]:
        """The merged tables as arrays of k rows a channel, and the skipped files sorted."""
        strongest, skipped = accumulator
        tables = [work.strongest_array(acc, self.k) for acc in strongest or []]
        return {"tables": tables, "skipped": sorted(map(tuple, skipped))}


def _keep_merged(merged: dict[str, Any], spec: ScanSpec) -> dict[str, Any]:
    """Write the merged tables and the skipped files under out (the atlas is built from them)."""
    arrays = {f"L{i}": table for i, table in enumerate(merged["tables"])}
    arrays["meta"] = np.frombuffer(
        json.dumps({"key": spec.key, "skipped": merged["skipped"]}).encode(), np.uint8
    )
    files.write_atomic(files.join(spec.out, "merged.npz"), files.npz_bytes(arrays))
    return merged


def _tasks(merged: dict[str, Any]) -> Iterator[tuple[int, int, np.ndarray]]:
    """(layer, first channel, table rows) for every PART_CHANNELS channels of every layer."""
    for layer, table in enumerate(merged["tables"]):
        for start in range(0, len(table), PART_CHANNELS):
            yield layer, start, table[start : start + PART_CHANNELS]


class ProjectPart(beam.DoFn):
    """(layer, start, rows) -> the hits' patches and projections, kept under out."""

    def __init__(self, spec: ScanSpec) -> None:
        self.spec = spec
        self.computed = Metrics.counter(NAMESPACE, "parts_computed")
        self.reused = Metrics.counter(NAMESPACE, "parts_reused")

    def process(self, task: tuple[int, int, np.ndarray]) -> Iterator[str]:
        """Yield the path of the part's file (projecting and keeping it if new)."""
        path, computed = work.project_part(self.spec, *task)
        (self.computed if computed else self.reused).inc()
        yield path


class VisualizePart(beam.DoFn):
    """(layer, start, count) -> the units' visualisations, kept under out."""

    def __init__(self, spec: ScanSpec) -> None:
        self.spec = spec
        self.computed = Metrics.counter(NAMESPACE, "visualizations_computed")
        self.reused = Metrics.counter(NAMESPACE, "visualizations_reused")

    def process(self, task: tuple[int, int, int]) -> Iterator[str]:
        """Yield the path of the part's file (visualising and keeping it if new)."""
        path, computed = work.visualize_part(self.spec, *task)
        (self.computed if computed else self.reused).inc(task[2])  # units
        yield path


def visual_tasks(channels: list[int]) -> list[tuple[int, int, int]]:
    """(layer, first channel, count) for every VISUAL_CHANNELS channels of every layer."""
    return [
        (layer, start, min(VISUAL_CHANNELS, count - start))
        for layer, count in enumerate(channels)
        for start in range(0, count, VISUAL_CHANNELS)
    ]


def build(pipeline: beam.Pipeline, spec: ScanSpec, channels: list[int]) -> None:
    """The scan's transforms on `pipeline` (and the visualisations' stage, when asked)."""
    if spec.visualize_steps:
        (
            pipeline
            | "VisualTasks" >> beam.Create(visual_tasks(channels))
            | "SpreadVisual" >> beam.Reshuffle()
            | "Visualize" >> beam.ParDo(VisualizePart(spec))
        )
    (
        pipeline
        | "Shards" >> beam.Create(list(range(spec.shard_count)))
        | "SpreadShards" >> beam.Reshuffle()
        | "TopKOfShard" >> beam.ParDo(TopKOfShard(spec))
        | "Merge" >> beam.CombineGlobally(MergeTopK(spec.k))
        | "KeepMerged" >> beam.Map(_keep_merged, spec)
        | "Tasks" >> beam.FlatMap(_tasks)
        | "SpreadTasks" >> beam.Reshuffle()
        | "ProjectPart" >> beam.ParDo(ProjectPart(spec))
    )


def options(runner: str, workers: int, pipeline_args: Sequence[str] | None) -> PipelineOptions:
    """Pipeline options: DirectRunner with `workers` processes, or any runner's own flags."""
    flags = list(pipeline_args or [])
    if runner == "DirectRunner":
        if not any(flag.startswith("--direct_num_workers") for flag in flags):
            flags.append(f"--direct_num_workers={workers}")
        if workers > 1 and not any(flag.startswith("--direct_running_mode") for flag in flags):
            flags.append("--direct_running_mode=multi_processing")
    if not any(flag.startswith("--default_sdk_harness_log_level") for flag in flags):
        flags.append("--default_sdk_harness_log_level=ERROR")  # its start-up warnings are noise
    return PipelineOptions(flags, runner=runner)


def counters(result: Any) -> dict[str, int]:
    """The scan's Beam counters (committed where the runner has them, else attempted)."""
    found: dict[str, int] = {}
    try:
        for metric in result.metrics().query()["counters"]:
            if metric.key.metric.namespace == NAMESPACE:
                value = metric.committed if metric.committed is not None else metric.attempted
                found[metric.key.metric.name] = found.get(metric.key.metric.name, 0) + int(value)
    except (AttributeError, NotImplementedError, KeyError):  # a runner without metrics
        pass
    return found


def execute(
    spec: ScanSpec, runner: str, workers: int, args: Any, progress: Any, channels: list[int]
) -> dict:
    """Run the pipeline with a progress bar fed by the shard and part files as they appear."""
    total = spec.shard_count + sum(-(-count // PART_CHANNELS) for count in channels)
    total += len(visual_tasks(channels)) if spec.visualize_steps else 0
    update, close = progress_reporter(progress, total, desc="scan", unit="step")
    stop = threading.Event()

    def watch() -> None:
        done = -1
        while not stop.wait(0.5):
            if (now := _finished(spec)) != done:
                update(now)
                done = now

    watcher = threading.Thread(target=watch, name="scan-progress", daemon=True)
    beam_log = logging.getLogger("apache_beam")
    level = beam_log.level
    beam_log.setLevel(logging.ERROR)  # the workers' start-up warnings, relayed (not ours)
    started, wall = time.perf_counter(), time.time()
    watcher.start()
    try:
        with beam.Pipeline(options=options(runner, workers, args)) as pipeline:
            build(pipeline, spec, channels)
        result = pipeline.result if hasattr(pipeline, "result") else None
    finally:
        beam_log.setLevel(level)
        stop.set()
        watcher.join()
        update(_finished(spec))
        close()
    found: dict[str, float] = dict(counters(result)) if result is not None else {}
    found["seconds"] = round(time.perf_counter() - started, 3)
    found.update(_phases(spec, wall))
    return found


def _phases(spec: ScanSpec, wall: float) -> dict[str, float]:
    """Seconds to the last shard written, then to the last part (local files of this run)."""

    def last(folder: str) -> float | None:
        times = [
            os.stat(path).st_mtime
            for path in files.listed(files.join(spec.out, folder), "*.npz")
            if os.path.exists(path)
        ]
        times = [t for t in times if t >= wall]
        return max(times) if times else None

    shards, parts = last("shards"), last("parts")
    phases = {}
    if shards is not None:
        phases["seconds_to_top_k"] = round(shards - wall, 3)
    if parts is not None:
        phases["seconds_projecting"] = round(parts - (shards or wall), 3)
    if (visual := last("visual")) is not None:
        phases["seconds_to_visualizations"] = round(visual - wall, 3)
    return phases


def _finished(spec: ScanSpec) -> int:
    """Shard, part and visualisation files written so far."""
    folders = ("shards", "parts", "visual") if spec.visualize_steps else ("shards", "parts")
    return sum(len(files.listed(files.join(spec.out, name), "*.npz")) for name in folders)


def check_scan_args(k: Any, batch_size: Any, shard_size: Any, workers: Any, method: Any) -> str:
    """Check the scan's numbers and method; returns the method's key (what the workers get).

    Raises:
        TypeError: a number that is not an int, a method neither text nor a Method.
        ValueError: a number below 1, an unknown method or a key its method refuses.
    """
    for name, value in (
        ("k", k),
        ("batch_size", batch_size),
        ("shard_size", shard_size),
        ("workers", workers),
    ):
        checks.check_int(value, name, low=1)
    if not isinstance(method, str | methods.Method):
        raise TypeError(
            f"method must be a name (str) or a deconv_widgets.methods.Method, got "
            f"{type(method).__name__} {checks.shown(method)}; choose one of: "
            f"{', '.join(methods.NAMES)}"
        )
    return methods.get(method).key


def local_threads(runner: str, workers: int) -> int | None:
    """TensorFlow threads per local worker process, so that the workers share the cores."""
    if runner != "DirectRunner" or workers < 2:
        return None
    return max(1, (os.cpu_count() or 1) // workers)
