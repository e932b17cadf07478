"""LRP in the Projector against LRP written out by hand in NumPy (`lrp_reference`).

On small conv / pooling / dense models with random weights and biases, `project` (a channel,
seeded by its activation or its maximum) and `project_class` (a class score) under LRP-ε and
LRP-alpha-beta equal the NumPy reference, layer by layer. Then the properties DESIGN's rule 5
names: with ε → 0 and no biases, LRP-ε is input × the gradient of the seed's target; a BN
after a linear Conv2D / Dense / DepthwiseConv2D / SeparableConv2D is folded into it (the same
as a hand-folded model), a lone BN is its affine map; relevance is conserved where the rules
conserve it, through Add and Concatenate too.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from lrp_reference import Linear, ReLU, add_matrix, alpha_beta, bn_affine, conv_matrix, epsilon
from lrp_reference import from_keras as reference_of

from deconv_widgets import methods
from deconv_widgets.projection import Projector

L = keras.layers
SHAPE = (8, 8, 2)
REL = 1e-5  # the engine (float32) against the reference (float64), relative to max |reference|

# (engine method, reference rule): two ε, alpha-beta with and without its negative part
RULES = {
    "eps0.25": (methods.lrp_epsilon(0.25), epsilon(0.25)),
    "ab1-0": (methods.lrp_alpha_beta(1, 0), alpha_beta(1.0, 0.0)),
    "ab2-1": (methods.lrp_alpha_beta(2, 1), alpha_beta(2.0, 1.0)),
}


# ------------------------------------------------------------------------ models
def maxpool_model(bias: bool = True) -> keras.Sequential:
    """Conv (same) → max pool → conv (valid, 4x4 → 2x2) → flatten → dense relu → dense."""
    return keras.Sequential(
        [
            keras.Input(SHAPE),
            L.Conv2D(3, 3, padding="same", activation="relu", use_bias=bias, name="c1"),
            L.MaxPooling2D(2, name="pool"),
            L.Conv2D(4, 3, activation="relu", use_bias=bias, name="c2"),
            L.Flatten(name="flat"),
            L.Dense(8, activation="relu", use_bias=bias, name="d1"),
            L.Dense(5, use_bias=bias, name="logits"),
        ]
    )


def avgpool_model(bias: bool = True) -> keras.Sequential:
    """Conv → average pool → conv → global average pool → dense with a softmax."""
    return keras.Sequential(
        [
            keras.Input(SHAPE),
            L.Conv2D(3, 3, padding="same", activation="relu", use_bias=bias, name="c1"),
            L.AveragePooling2D(2, name="pool"),
            L.Conv2D(4, 3, padding="same", activation="relu", use_bias=bias, name="c2"),
            L.GlobalAveragePooling2D(name="gap"),
            L.Dense(5, activation="softmax", use_bias=bias, name="logits"),
        ]
    )


def bn_model() -> keras.Sequential:
    """Linear conv → BN → ReLU, and linear dense → BN → ReLU: both BNs fold (LRP)."""
    return keras.Sequential(
        [
            keras.Input(SHAPE),
            L.Conv2D(3, 3, padding="same", use_bias=False, name="c1"),  # the BN gives it one
            L.BatchNormalization(name="bn1"),
            L.ReLU(name="r1"),
            L.MaxPooling2D(2, name="pool"),
            L.Conv2D(4, 3, activation="relu", name="c2"),
            L.Flatten(name="flat"),
            L.Dense(8, name="d1"),
            L.BatchNormalization(name="bn2"),
            L.ReLU(name="r2"),
            L.Dense(5, name="logits"),
        ]
    )


def folded_twin(model: keras.Sequential) -> keras.Sequential:
    """`bn_model` with each BN folded by hand: W·s, (b − mean)·s + beta = b·s + shift.

    Its c1 has a bias (the shift); the original's has none.
    """
    twin = keras.Sequential(
        [
            keras.Input(SHAPE),
            L.Conv2D(3, 3, padding="same", name="c1"),
            L.ReLU(name="r1"),
            L.MaxPooling2D(2, name="pool"),
            L.Conv2D(4, 3, activation="relu", name="c2"),
            L.Flatten(name="flat"),
            L.Dense(8, name="d1"),
            L.ReLU(name="r2"),
            L.Dense(5, name="logits"),
        ]
    )
    for name in ("c2", "logits"):
        twin.get_layer(name).set_weights(model.get_layer(name).get_weights())
    for linear, bn in (("c1", "bn1"), ("d1", "bn2")):
        kernel, *bias = (np.asarray(w, np.float64) for w in model.get_layer(linear).get_weights())
        bias = bias[0] if bias else 0.0  # c1 has none
        scale, shift = bn_affine(model.get_layer(bn))
        twin.get_layer(linear).set_weights([kernel * scale, bias * scale + shift])
    return twin


def separable_model(bn: bool) -> keras.Sequential:
    """Linear depthwise (x2) → BN → ReLU → linear separable → BN → ReLU → GAP → dense.

    Without `bn` the BNs are left out (the hand-folded twin's layers).
    """

    def folded(name: str) -> list:
        return [L.BatchNormalization(name=name)] if bn else []

    return keras.Sequential(
        [
            keras.Input(SHAPE),
            L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw"),
            *folded("bn_dw"),
            L.ReLU(name="r1"),
            L.SeparableConv2D(4, 3, padding="same", name="sep"),
            *folded("bn_sep"),
            L.ReLU(name="r2"),
            L.GlobalAveragePooling2D(name="gap"),
            L.Dense(5, name="logits"),
        ]
    )


def separable_twin(model: keras.Sequential) -> keras.Sequential:
    """`separable_model(bn=True)` with its BNs folded by hand into the kernels and biases."""
    twin = separable_model(bn=False)
    twin.get_layer("logits").set_weights(model.get_layer("logits").get_weights())
    dw_kernel, dw_bias = model.get_layer("dw").get_weights()
    scale, shift = bn_affine(model.get_layer("bn_dw"))  # channel c m + k of the depthwise
    twin.get_layer("dw").set_weights(
        [dw_kernel * scale.reshape(dw_kernel.shape[2:]), dw_bias * scale + shift]
    )
    depthwise, pointwise, bias = model.get_layer("sep").get_weights()
    scale, shift = bn_affine(model.get_layer("bn_sep"))
    twin.get_layer("sep").set_weights([depthwise, pointwise * scale, bias * scale + shift])
    return twin


def lone_bn_model() -> keras.Sequential:
    """A BN right after the input and one after a ReLU layer: neither follows a linear layer."""
    return keras.Sequential(
        [
            keras.Input(SHAPE),
            L.BatchNormalization(name="bn0"),
            L.Conv2D(3, 3, padding="same", name="c1"),
            L.ReLU(name="r1"),
            L.BatchNormalization(name="bn1"),
            L.MaxPooling2D(2, name="pool"),
            L.Conv2D(4, 3, activation="relu", name="c2"),
            L.Flatten(name="flat"),
            L.Dense(5, name="logits"),
        ]
    )


def residual_model(bias: bool) -> keras.Model:
    """Conv relu (a) → linear conv (b) → Add(a, b) → ReLU → Concatenate with a → conv relu."""
    image = keras.Input(SHAPE)
    a = L.Conv2D(4, 3, padding="same", activation="relu", use_bias=bias, name="c1")(image)
    b = L.Conv2D(4, 3, padding="same", use_bias=bias, name="c2")(a)
    added = L.Add(name="add")([a, b])
    rectified = L.ReLU(name="r")(added)
    both = L.Concatenate(name="cat")([rectified, a])
    out = L.Conv2D(3, 3, activation="relu", use_bias=bias, name="c3")(both)
    return keras.Model(image, out)


def randomised(model: keras.Model, random_seed: int) -> keras.Model:
    """Random kernels (std 1.6 / sqrt(fan in)), biases and BN statistics (a gamma < 0)."""
    rng = np.random.default_rng(random_seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        if isinstance(layer, L.BatchNormalization):
            size = weights[0].shape[0]
            gamma = rng.uniform(0.5, 1.5, size) * np.where(np.arange(size) == 1, -1.0, 1.0)
            new = [gamma, rng.normal(0, 0.3, size), rng.normal(0, 0.3, size)]
            new.append(rng.uniform(0.5, 2.0, size))  # moving variance
        else:
            kernel = weights[0]
            fan_in = int(np.prod(kernel.shape[:-1]))
            new = [rng.normal(0, 1.6 / np.sqrt(fan_in), kernel.shape)]
            new += [rng.normal(0.05, 0.2, w.shape) for w in weights[1:]]
        layer.set_weights([w.astype(np.float32) for w in new])
    return model


def image_of(random_seed: int) -> np.ndarray:
    """A random input in [-1, 1] (negative inputs exercise both signs of a in alpha-beta)."""
    return np.random.default_rng(random_seed).uniform(-1, 1, SHAPE).astype(np.float32)


# ----------------------------------------------------------------------- helpers
ERRORS: dict[str, float] = {}  # the worst relative error seen per check (for the report)


@pytest.fixture(scope="module", autouse=True)
def report_errors():
    """Print the worst relative error of each check at the end (shown with `pytest -s`)."""
    yield
    for what, error in sorted(ERRORS.items()):
        print(f"{what}: {error:.2e}")


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    """The largest |got − want| over the largest |want|."""
    scale = float(np.max(np.abs(want)))
    assert scale > 0, "the reference is all zeros: the test checks nothing"
    return float(np.max(np.abs(np.asarray(got, np.float64) - want))) / scale


def assert_close(got: np.ndarray, want: np.ndarray, rel: float, what: str) -> None:
    """Relative to max |want|; records the error under `what`."""
    error = relative_error(got, want)
    ERRORS[what] = max(ERRORS.get(what, 0.0), error)
    assert error <= rel, f"{what}: relative error {error:.3g} > {rel}"


def live_channels(projector: Projector, image: np.ndarray, layer: str) -> list[int]:
    """The channels of `layer` active somewhere on `image` (the others project to zero)."""
    activation = projector.activations(image, layer)
    channels = [c for c in range(activation.shape[-1]) if activation[..., c].max() > 0]
    assert len(channels) >= 2, f"{layer}: too few active channels for a test"
    return channels


@pytest.fixture(scope="module")
def models() -> dict[str, tuple[keras.Model, Projector]]:
    """Every model of the module, randomised, with its Projector."""
    built = {
        "maxpool": randomised(maxpool_model(), 1),
        "avgpool": randomised(avgpool_model(), 2),
        "bn": randomised(bn_model(), 3),
        "lone_bn": randomised(lone_bn_model(), 4),
        "maxpool_nobias": randomised(maxpool_model(bias=False), 5),
        "avgpool_nobias": randomised(avgpool_model(bias=False), 6),
    }
    built["bn_folded"] = folded_twin(built["bn"])
    built["separable"] = randomised(separable_model(bn=True), 8)
    built["separable_folded"] = separable_twin(built["separable"])
    return {name: (model, Projector(model)) for name, model in built.items()}


# ---------------------------------------------------------- against the reference
@pytest.mark.parametrize("name", ["maxpool", "avgpool", "lone_bn", "bn_folded"])
def test_reference_forward_is_the_model(models, name):
    model, projector = models[name]
    reference = reference_of(model)
    image = image_of(10)
    for layer in ("c1", "c2"):
        assert_close(
            projector.activations(image, layer), reference.output(image, layer), REL, "forward"
        )
    assert_close(projector.class_scores(image), reference.output(image, "logits"), REL, "forward")


@pytest.mark.parametrize("rule", list(RULES))
@pytest.mark.parametrize("name", ["maxpool", "avgpool"])
def test_project_equals_reference(models, name, rule):
    model, projector = models[name]
    method, reference_rule = RULES[rule]
    reference = reference_of(model)
    image = image_of(11)
    channels = live_channels(projector, image, "c2")  # its path holds every layer below
    got = projector.project_many(image, "c2", channels, method=method, seed="activation")
    for row, channel in enumerate(channels):
        seed = reference.channel_seed(image, "c2", channel, "activation")
        want = reference.relevance(image, "c2", seed, reference_rule)
        assert_close(got[row], want, REL, f"project {rule}")


@pytest.mark.slow("9 models x rules, 5 classes each, against a NumPy LRP reference (~4 s)")
@pytest.mark.parametrize("rule", list(RULES))
@pytest.mark.parametrize("name", ["maxpool", "avgpool", "lone_bn"])
def test_project_class_equals_reference(models, name, rule):
    model, projector = models[name]
    method, reference_rule = RULES[rule]
    reference = reference_of(model)
    image = image_of(12)
    checked = 0
    for index in range(5):
        seed = np.eye(5)[index]  # relevance 1 on the class score (before any softmax)
        want = reference.relevance(image, "logits", seed, reference_rule)
        got = projector.project_class(image, index, method=method)
        if not want.any():  # alpha-beta: no positive contribution to this class (0/0 = 0)
            np.testing.assert_array_equal(got, 0.0)
            continue
        assert_close(got, want, REL, f"project_class {rule}")
        checked += 1
    assert checked >= 1


def test_max_seed_and_small_epsilon_equal_reference(models):
    model, projector = models["maxpool"]
    reference = reference_of(model)
    image = image_of(13)
    channels = live_channels(projector, image, "c2")
    for eps in (0.01, 3.0):
        got = projector.project_many(
            image, "c2", channels, method=methods.lrp_epsilon(eps), seed="max"
        )
        for row, channel in enumerate(channels):
            seed = reference.channel_seed(image, "c2", channel, "max")
            want = reference.relevance(image, "c2", seed, epsilon(eps))
            assert_close(got[row], want, REL, "project eps (max seed)")


def test_method_given_by_key_or_name_is_the_configured_one(models):
    _, projector = models["maxpool"]
    image = image_of(14)
    by_name = projector.project(image, "c2", 0, method="lrp_epsilon")
    by_key = projector.project(image, "c2", 0, method="lrp_epsilon(epsilon=0.25)")
    configured = projector.project(image, "c2", 0, method=methods.lrp_epsilon(0.25))
    np.testing.assert_array_equal(by_name, configured)
    np.testing.assert_array_equal(by_key, configured)


# ------------------------------------------------------------- ε → 0: input × gradient
@pytest.mark.parametrize("name", ["maxpool_nobias", "avgpool_nobias"])
def test_epsilon_to_zero_without_biases_is_input_times_gradient(models, name):
    """Relevance started from the activation map a is input × ∂(Σ a)/∂input (seed "ones")."""
    _, projector = models[name]
    image = image_of(15)
    lrp = methods.lrp_epsilon(1e-9)
    channels = live_channels(projector, image, "c2")
    got = projector.project_many(image, "c2", channels, method=lrp, seed="activation")
    gradient = projector.project_many(image, "c2", channels, method="saliency", seed="ones")
    for row in range(len(channels)):
        assert_close(got[row], image * gradient[row], 1e-4, "eps->0 = input x gradient")


def test_epsilon_to_zero_from_a_class_is_input_times_gradient(models):
    """Relevance starts as 1 on the class score z, so z × LRP = input × ∂z/∂input."""
    _, projector = models["maxpool_nobias"]
    image = image_of(15)
    lrp = methods.lrp_epsilon(1e-9)
    scores = projector.class_scores(image)
    for index in range(5):
        got = projector.project_class(image, index, method=lrp) * scores[index]
        gradient = projector.project_class(image, index, method="saliency")
        assert_close(got, image * gradient, 1e-4, "eps->0 = input x gradient")


# ------------------------------------------------------------------------ BN folding
@pytest.mark.parametrize("rule", list(RULES))
def test_bn_after_linear_layer_is_folded_into_it(models, rule):
    _, bn_projector = models["bn"]
    folded, folded_projector = models["bn_folded"]
    method, reference_rule = RULES[rule]
    reference = reference_of(folded)  # its BNs folded by hand: plain conv / dense steps
    image = image_of(16)
    # the same forward pass, so the comparison below is about the rules only
    assert_close(
        bn_projector.class_scores(image), folded_projector.class_scores(image), REL, "forward"
    )
    checked = 0
    for index in range(5):  # the head's path: conv → BN → ReLU ... dense → BN → ReLU → dense
        want = reference.relevance(image, "logits", np.eye(5)[index], reference_rule)
        got = bn_projector.project_class(image, index, method=method)
        if not want.any():  # alpha-beta: no positive contribution to this class (0/0 = 0)
            np.testing.assert_array_equal(got, 0.0)
            continue
        twin = folded_projector.project_class(image, index, method=method)
        assert_close(twin, want, REL, f"folded twin {rule}")
        assert_close(got, want, REL, f"BN folded {rule}")
        checked += 1
    assert checked >= 1


@pytest.mark.parametrize("rule", list(RULES))
def test_bn_after_depthwise_and_separable_is_folded_into_them(models, rule):
    _, projector = models["separable"]
    twin, twin_projector = models["separable_folded"]
    method, reference_rule = RULES[rule]
    reference = reference_of(twin)
    image = image_of(21)
    assert_close(projector.class_scores(image), reference.output(image, "logits"), REL, "forward")
    checked = 0
    for index in range(5):  # the head's path holds every layer
        want = reference.relevance(image, "logits", np.eye(5)[index], reference_rule)
        got = projector.project_class(image, index, method=method)
        if not want.any():  # alpha-beta: no positive contribution to this class (0/0 = 0)
            np.testing.assert_array_equal(got, 0.0)
            continue
        assert_close(twin_projector.project_class(image, index, method=method), want, REL, "sep")
        assert_close(got, want, REL, f"separable BN folded {rule}")
        checked += 1
    assert checked >= 1


def test_bn_fold_changes_lrp_epsilon(models):
    """Folding matters: the unfolded BN (a separate ε step) gives another answer."""
    bn, projector = models["bn"]
    image = image_of(17)
    unfolded = reference_of(bn)  # each BN its own diagonal ε step
    separate = unfolded.relevance(image, "logits", np.eye(5)[0], epsilon(0.25))
    got = projector.project_class(image, 0, method=methods.lrp_epsilon(0.25))
    assert relative_error(got, separate) > 1e-3


# ---------------------------------------------------------------------- conservation
CONSERVING = {"eps1e-9": methods.lrp_epsilon(1e-9), "ab1-0": methods.lrp_alpha_beta(1, 0)}


@pytest.mark.parametrize("rule", list(CONSERVING))
@pytest.mark.parametrize("name", ["maxpool_nobias", "avgpool_nobias"])
def test_relevance_is_conserved_without_biases(models, name, rule):
    """No bias absorbs any: every unit with relevance has z > 0 (ε), z⁺ > 0 (alpha=1, beta=0)."""
    _, projector = models[name]
    image = image_of(18)
    for layer in ("c1", "c2"):
        channels = live_channels(projector, image, layer)
        activation = projector.activations(image, layer)
        got = projector.project_many(image, layer, channels, method=CONSERVING[rule])
        for row, channel in enumerate(channels):
            seed_sum = float(activation[..., channel].sum())
            error = abs(float(got[row].sum()) - seed_sum) / seed_sum
            ERRORS[f"conservation {rule}"] = max(ERRORS.get(f"conservation {rule}", 0), error)
            assert error <= 1e-3, f"{layer}[{channel}]: Σ R = {got[row].sum()} vs {seed_sum}"


@pytest.fixture(scope="module")
def residuals() -> dict[bool, tuple[keras.Model, Projector]]:
    """The residual model with and without biases."""
    built = {bias: randomised(residual_model(bias), 7 + bias) for bias in (True, False)}
    return {bias: (model, Projector(model)) for bias, model in built.items()}


def residual_reference(model: keras.Model, image: np.ndarray, channel: int, rule) -> np.ndarray:
    """LRP from channel `channel` of "r" (seed: its activation) by hand, Add split included."""

    def conv(name: str, shape: tuple) -> tuple[Linear, tuple]:
        layer = model.get_layer(name)
        weights = [np.asarray(w, np.float64) for w in layer.get_weights()]
        m, out = conv_matrix(weights[0], shape, layer.padding)
        bias = np.tile(weights[1], out[0] * out[1]) if layer.use_bias else None
        return Linear(m, bias), out

    c1, shape = conv("c1", SHAPE)
    c2, _ = conv("c2", shape)
    x = image.astype(np.float64).reshape(-1)
    a = ReLU.forward(c1.forward(x))
    b = c2.forward(a)
    r_out = ReLU.forward(a + b).reshape(shape)
    relevance = np.zeros(shape)
    relevance[..., channel] = r_out[..., channel]  # the activation seed; passes the ReLU
    both = rule(np.concatenate([a, b]), add_matrix(a.size, 2), None, relevance.reshape(-1))
    r_a, r_b = both[: a.size], both[a.size :]
    r_a = r_a + rule(a, c2.m, c2.bias, r_b)  # through the linear conv, back to a
    return rule(x, c1.m, c1.bias, r_a).reshape(SHAPE)  # c1's ReLU passes it


@pytest.mark.parametrize("rule", ["eps0.25", "ab2-1"])
def test_residual_add_equals_reference(residuals, rule):
    model, projector = residuals[True]
    method, reference_rule = RULES[rule]
    image = image_of(19)
    channels = live_channels(projector, image, "r")
    got = projector.project_many(image, "r", channels, method=method)
    for row, channel in enumerate(channels):
        want = residual_reference(model, image, channel, reference_rule)
        assert_close(got[row], want, REL, f"residual {rule}")


@pytest.mark.parametrize("rule", list(CONSERVING))
def test_residual_add_and_concat_conserve_relevance_without_biases(residuals, rule):
    _, projector = residuals[False]
    image = image_of(20)
    for layer in ("r", "c3"):
        activation = projector.activations(image, layer)
        channels = live_channels(projector, image, layer)
        got = projector.project_many(image, layer, channels, method=CONSERVING[rule])
        for row, channel in enumerate(channels):
            seed_sum = float(activation[..., channel].sum())
            error = abs(float(got[row].sum()) - seed_sum) / seed_sum
            ERRORS[f"conservation {rule}"] = max(ERRORS.get(f"conservation {rule}", 0), error)
            assert error <= 1e-3, f"{layer}[{channel}]: Σ R = {got[row].sum()} vs {seed_sum}"


def test_residual_epsilon_to_zero_is_input_times_gradient(residuals):
    """Through Add (split in proportion) and Concatenate (by channel) as well."""
    _, projector = residuals[False]
    image = image_of(22)
    channels = live_channels(projector, image, "c3")
    got = projector.project_many(image, "c3", channels, method=methods.lrp_epsilon(1e-9))
    gradient = projector.project_many(image, "c3", channels, method="saliency", seed="ones")
    for row in range(len(channels)):
        assert_close(got[row], image * gradient[row], 1e-4, "eps->0 = input x gradient")


def test_epsilon_rule_takes_sign_of_zero_as_plus_one():
    """Class 0 has z = 1·0.5 − 1·0.5 = 0: R_i = a_i w_i / (0 + ε·1), i.e. [1, −1] at ε = 0.5."""
    model = keras.Sequential(
        [keras.Input((1, 1, 2)), L.Flatten(name="flat"), L.Dense(2, use_bias=False, name="out")]
    )
    model.get_layer("out").set_weights([np.array([[1.0, 1.0], [-1.0, 1.0]], np.float32)])
    projector = Projector(model)
    image = np.full((1, 1, 2), 0.5, np.float32)
    assert projector.class_scores(image)[0] == 0.0
    got = projector.project_class(image, 0, method=methods.lrp_epsilon(0.5))
    np.testing.assert_allclose(got.reshape(-1), [1.0, -1.0], rtol=1e-6)
