"""Benchmark 3: Projector.project() warm on VGG16 vs a hand-written GradientTape gradient."""

from __future__ import annotations

import time

import numpy as np

from bench.common import Row, Section, interleaved, ms, percentiles

TARGET = 1.10
LAYERS = ("block3_conv3", "block5_conv3")


def hand_written_gradient(model, layer: str):
    """What a teacher writes: the layer's channel gradient with the activation seed, by tape."""
    import keras

    from deconv_widgets._tf import tf

    sub = keras.Model(model.inputs, model.get_layer(layer).output)
    channels = int(sub.output.shape[-1])

    @tf.function(
        input_signature=[
            tf.TensorSpec((1, *model.input.shape[1:]), tf.float32),
            tf.TensorSpec((), tf.int32),
        ]
    )
    def gradient(image, channel):
        with tf.GradientTape() as tape:
            tape.watch(image)
            activation = sub(image, training=False)
        mask = tf.one_hot(channel, channels, dtype=activation.dtype)
        seed = activation * mask  # the channel's own activation map, every other channel 0
        return tape.gradient(activation, image, output_gradients=seed)

    return gradient


def forward_only(model, layer: str):
    """The forward pass to `layer` alone, compiled (for context: what the cache saves)."""
    import keras

    from deconv_widgets._tf import tf

    sub = keras.Model(model.inputs, model.get_layer(layer).output)
    return tf.function(lambda image: sub(image, training=False))


def run(quick: bool = False) -> list[Section]:
    """Median project() per channel switch vs the tape gradient, and traces per 100 switches."""
    import keras

    from deconv_widgets import Projector
    from deconv_widgets._tf import tf

    section = Section(3, "project() warm on VGG16 (weights=None, 224x224x3)")
    size = 64 if quick else 224
    switches = 3 if quick else 20
    trace_switches = 6 if quick else 100
    keras.utils.set_random_seed(0)
    model = keras.applications.VGG16(weights=None, input_shape=(size, size, 3))
    image = np.random.default_rng(0).uniform(0, 255, (size, size, 3)).astype(np.float32)
    image -= 120.0  # roughly VGG's mean-centred input range
    projector = Projector(model)
    rng = np.random.default_rng(1)
    layers = LAYERS[:1] if quick else LAYERS
    for layer in layers:
        channels = int(model.get_layer(layer).output.shape[-1])
        tape = hand_written_gradient(model, layer)
        forward = forward_only(model, layer)
        batch = tf.constant(image[None])
        fns = {
            "ours": lambda c, layer=layer: projector.project(image, layer, int(c)),
            "tape": lambda c, tape=tape, b=batch: tape(b, tf.constant(int(c), tf.int32)).numpy(),
            "forward": lambda _channel, forward=forward, b=batch: forward(b).numpy(),
        }
        for fn in fns.values():  # warm-up: traces, the forward cache, oneDNN kernels
            fn(0)
            fn(1)
        # the same seed gives the same array where no ReLU masks differ: check with saliency
        ours_saliency = projector.project(image, layer, 5, method="saliency")
        reference = tape(batch, tf.constant(5, tf.int32)).numpy()[0]
        scale = float(np.abs(reference).max()) or 1.0
        agreement = float(np.abs(ours_saliency - reference).max()) / scale
        picked = [int(c) for c in rng.integers(0, channels, switches)]
        before = projector.trace_count
        samples = interleaved(fns, picked)
        ours, base, fwd = (percentiles(samples[n]) for n in ("ours", "tape", "forward"))
        ratio = ours["p50"] / base["p50"]
        section.rows.append(
            Row(
                f"{layer}: project() deconvnet, warm, per channel switch",
                f"{ms(ours['p50'])} (p95 {ms(ours['p95'])})",
                f"{ms(base['p50'])} (p95 {ms(base['p95'])})",
                f"{ratio:.2f}x the tape's time",
                f"<= {TARGET:.2f}x",
                ratio <= TARGET,
            )
        )
        backward = base["p50"] - fwd["p50"]
        section.rows.append(
            Row(
                f"{layer}: the same vs the tape's backward alone (tape - forward medians)",
                ms(ours["p50"]),
                ms(backward),
                f"{ours['p50'] / backward:.2f}x" if backward > 0 else "n/a",
            )
        )
        # traces over `trace_switches` channel switches on the cached image (the timed ones
        # above count too)
        start = time.perf_counter()
        for channel in rng.integers(0, channels, trace_switches - switches):
            projector.project(image, layer, int(channel))
        elapsed = time.perf_counter() - start
        traces = projector.trace_count - before
        section.rows.append(
            Row(
                f"{layer}: new traces over {trace_switches} channel switches",
                str(traces),
                target="0",
                met=traces == 0,
            )
        )
        section.notes.append(
            f"- {layer} ({channels} channels): median of {ours['n']} switches to random "
            f"channels, ours and the tape interleaved. A forward pass alone to {layer} takes "
            f"{ms(fwd['p50'])}: the tape pays it on every switch, project() reads it from its "
            f"cache. The {trace_switches}-switch trace count loop ran at "
            f"{ms(elapsed / max(1, trace_switches - switches))} per switch. Saliency through "
            "project() vs the "
            f"tape, same seed (channel 5): max |diff| / max |tape| = {agreement:.1e} "
            f"(max |tape| = {scale:.3g})."
        )
    section.notes.append(
        f"- Model `keras.applications.VGG16(weights=None)` at {size}x{size}x3 (random weights, "
        "random seed 0), one random image. Ours: `Projector.project(image, layer, c)` (method "
        "'deconvnet', seed 'activation') after two warm-up calls. Baseline: a `tf.function` "
        "with an int32 channel argument that runs the layer's sub-model under a `GradientTape` "
        "and returns `tape.gradient(activation, image, output_gradients=activation * "
        "one_hot(c))`, warmed up the same way."
    )
    return [section]
