"""gradlab.run: real tf.gradients results, the graph, the examples and the generated code."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from deconv_widgets import gradlab
from deconv_widgets._tf import tf


def as_lists(grads):
    return {x: None if g is None else g.tolist() for x, g in grads.items()}


@pytest.mark.parametrize("name", list(gradlab.EXAMPLES))
def test_examples_give_their_expected_gradients(name):
    example = gradlab.EXAMPLES[name]
    result = gradlab.run_example(name)
    assert set(result.grads) == set(example.xs)
    assert as_lists(result.grads) == example.expected
    assert len(example.explanation) > 100


def test_grad_ys_example_sums_over_ys_for_w3():
    result = gradlab.run_example("grad_ys")
    np.testing.assert_array_equal(result.grads["W3"], [4.0, 6.0])
    assert "[4, 6]" in gradlab.EXAMPLES["grad_ys"].explanation
    assert "[3, 4]" in gradlab.EXAMPLES["grad_ys"].explanation
    # the values of the ys themselves
    np.testing.assert_array_equal(result.values["y1"], [9.0, 12.0])
    np.testing.assert_array_equal(result.values["y2"], [12.0, 14.0])


def test_stop_gradient_gives_none_or_zeros_and_does_not_raise():
    none = gradlab.run_example("stop_gradient")
    assert none.grads["W1"] is None and none.grads["W2"] is None
    zero = gradlab.run_example("stop_gradient", unconnected="zero")
    assert as_lists(zero.grads) == gradlab.EXAMPLES["stop_gradient"].expected_zero
    assert "does not raise" in gradlab.EXAMPLES["stop_gradient"].explanation


def test_tf_gradients_raises_in_eager_mode():
    message = gradlab.eager_gradients_error()
    assert "eager execution" in message and "GradientTape" in message
    with pytest.raises(RuntimeError):
        tf.gradients(tf.constant(1.0), [tf.constant(2.0)])


def tape_gradient(fn, values, output_gradients=None):
    """The reference: GradientTape on TensorFlow ops written directly in the test."""
    tensors = [tf.constant(np.asarray(v, np.float32)) for v in values]
    with tf.GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        out = fn(*tensors)
    return [g.numpy() for g in tape.gradient(out, tensors, output_gradients=output_gradients)]


CASES = [
    ("y = reduce_sum(square(W1) * exp(W2))", lambda a, b: tf.reduce_sum(a * a * tf.exp(b))),
    (
        "y = reduce_mean(sigmoid(W1) / (1 + tanh(W2)))",
        lambda a, b: tf.reduce_mean(tf.sigmoid(a) / (1 + tf.tanh(b))),
    ),
    (
        "y = reduce_sum(maximum(W1, W2) - minimum(W1, 0.5 * W2))",
        lambda a, b: tf.reduce_sum(tf.maximum(a, b) - tf.minimum(a, 0.5 * b)),
    ),
    (
        "h = relu(W1 - 0.5)\ny = reduce_sum(sin(h) * cos(W2) + log(square(W2) + 1))",
        lambda a, b: tf.reduce_sum(
            tf.sin(tf.nn.relu(a - 0.5)) * tf.cos(b) + tf.math.log(b * b + 1)
        ),
    ),
    ("y = reduce_sum(-W1 * +W2, axis=0)", lambda a, b: tf.reduce_sum(-a * b, axis=0)),
]


@pytest.mark.parametrize("program,reference", CASES, ids=[c[0][:30] for c in CASES])
def test_gradients_match_gradient_tape(program, reference):
    rng = np.random.default_rng(0)
    w1, w2 = rng.uniform(0.1, 1.0, (2, 3)), rng.uniform(0.1, 1.0, (2, 3))
    result = gradlab.run(program, {"W1": w1.tolist(), "W2": w2.tolist()}, "y", ["W1", "W2"])
    expected = tape_gradient(reference, [w1, w2])
    for x, ref in zip(["W1", "W2"], expected, strict=True):
        np.testing.assert_allclose(result.grads[x], ref, rtol=1e-5, atol=1e-6)


def test_matrix_program_with_grad_ys_dict_and_default_ones():
    program = "h = W1 @ W2\ny = relu(h) + 1\nz = reduce_sum(W2)"
    w1, w2 = [[1.0, -2.0], [0.5, 3.0]], [[1.0], [2.0]]
    result = gradlab.run(
        program, {"W1": w1, "W2": w2}, ["y", "z"], ["W1", "W2", "h"], grad_ys={"y": [[2.0], [3.0]]}
    )
    # z's seed defaults to ones; tf.gradients sums over y and z
    ref_w1, ref_w2 = tape_gradient(
        lambda a, b: [tf.nn.relu(a @ b) + 1, tf.reduce_sum(b)],
        [w1, w2],
        output_gradients=[tf.constant([[2.0], [3.0]]), tf.constant(1.0)],
    )
    np.testing.assert_allclose(result.grads["W1"], ref_w1)
    np.testing.assert_allclose(result.grads["W2"], ref_w2)
    # an intermediate x: dy/dh = relu'(h) * seed; h = [[-3], [6.5]]
    np.testing.assert_allclose(result.values["h"], [[-3.0], [6.5]])
    np.testing.assert_allclose(result.grads["h"], [[0.0], [3.0]])


def test_values_cover_every_node_and_unnamed_subexpressions_are_op_nodes():
    result = gradlab.run("y1 = W1 + W2 + W3", {"W1": 1, "W2": 2, "W3": 4}, "y1", "W1")
    nodes = {n["id"]: n for n in result.graph["nodes"]}
    unnamed = [n for n in nodes.values() if n["id"].startswith("#")]
    assert len(unnamed) == 1 and unnamed[0]["kind"] == "op" and unnamed[0]["op"] == "add"
    assert unnamed[0]["label"] == "+" and unnamed[0]["text"] == "W1 + W2"
    assert nodes["y1"]["kind"] == "y" and nodes["W1"]["kind"] == "variable"
    assert set(result.values) == set(nodes)
    assert result.values[unnamed[0]["id"]] == 3.0 and result.values["y1"] == 7.0
    edges = {(e["source"], e["target"]) for e in result.graph["edges"]}
    assert edges == {
        ("W1", unnamed[0]["id"]),
        ("W2", unnamed[0]["id"]),
        (unnamed[0]["id"], "y1"),
        ("W3", "y1"),
    }


def test_graph_marks_stop_gradient_edges_and_is_plain_json():
    result = gradlab.run_example("stop_gradient")
    graph = json.loads(json.dumps(result.graph))
    marked = [(e["source"], e["target"]) for e in graph["edges"] if e["stop_gradient"]]
    assert marked == [("a", "a_stop")]
    kinds = {n["id"]: n["kind"] for n in graph["nodes"]}
    assert kinds == {
        "W1": "variable",
        "W2": "variable",
        "W3": "variable",
        "a": "op",
        "a_stop": "op",
        "y3": "y",
    }
    consts = gradlab.run_example("matmul").graph["nodes"]
    assert [n["kind"] for n in consts if n["op"] == "const"] == ["const"]


def test_alias_and_constant_names():
    result = gradlab.run("a = W1\nc = [2, 3]\ny = a * c", {"W1": [1, 1]}, "y", ["W1", "a", "c"])
    assert as_lists(result.grads) == {"W1": [2.0, 3.0], "a": [2.0, 3.0], "c": [1.0, 1.0]}
    nodes = {n["id"]: n for n in result.graph["nodes"]}
    assert nodes["a"]["op"] == "identity" and nodes["c"]["kind"] == "const"


def test_comments_and_blank_lines_are_fine():
    program = "# the classic\n\ny = matmul(W1, [[9], [10]])  # a product\n"
    result = gradlab.run(program, {"W1": [[1, 2]]}, "y", "W1")
    assert as_lists(result.grads) == {"W1": [[9.0, 10.0]]}


CODE_CASES = {
    **{name: {"example": name} for name in gradlab.EXAMPLES},
    "stop_gradient zero": {"example": "stop_gradient", "unconnected": "zero"},
    "intermediate and const xs": {
        "program": "a = W1 @ W2\nc = 3\ny = reduce_sum(sigmoid(a) * c, axis=1)\nz = -a",
        "values": {"W1": [[0.1, 0.2], [0.3, -0.4]], "W2": [[1.5], [-2.5]]},
        "ys": ["y", "z"],
        "xs": ["W1", "a", "c"],
        "grad_ys": [[1.0, 2.0], None],
    },
}


def _result(case):
    if "example" in case:
        return gradlab.run_example(case["example"], case.get("unconnected"))
    return gradlab.run(case["program"], case["values"], case["ys"], case["xs"], case["grad_ys"])


@pytest.mark.slow("runs every generated script in a fresh Python that imports TensorFlow (~5 s)")
def test_generated_code_runs_as_printed_and_prints_the_same_gradients(tmp_path):
    """Every script runs as __main__ with the venv's python; both ways print `grads`."""
    results, paths = {}, []
    for index, (name, case) in enumerate(CODE_CASES.items()):
        results[name] = _result(case)
        path = tmp_path / f"case{index}.py"
        path.write_text(results[name].code)
        ast.parse(results[name].code)  # plain Python
        paths.append(str(path))
    runner = textwrap.dedent("""
        import runpy, sys
        for path in sys.argv[1:]:
            print("=== " + path, flush=True)
            runpy.run_path(path, run_name="__main__")
    """)
    done = subprocess.run(
        [sys.executable, "-c", runner, *paths],
        capture_output=True,
        text=True,
        timeout=300,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    blocks = done.stdout.split("=== ")[1:]
    assert len(blocks) == len(CODE_CASES)
    for (name, result), block in zip(results.items(), blocks, strict=True):
        printed = {}
        for line in block.splitlines()[1:]:
            match = re.fullmatch(r"(tf\.gradients|GradientTape) d/d(\w+) = (.*)", line)
            assert match, (name, line)
            printed[(match[1], match[2])] = ast.literal_eval(match[3])
        assert len(printed) == 2 * len(result.xs), (name, block)
        for (way, x), value in printed.items():
            expected = result.grads[x]
            if expected is None:
                assert value is None, (name, way, x)
            else:
                np.testing.assert_allclose(value, expected, rtol=1e-6, err_msg=f"{name} {way} {x}")


def test_run_accepts_tensors_and_numpy_values():
    result = gradlab.run(
        "y = W1 * W2", {"W1": tf.constant([2.0]), "W2": np.array([5.0])}, "y", ["W1", "W2"]
    )
    assert as_lists(result.grads) == {"W1": [5.0], "W2": [2.0]}


def test_limits_and_examples_are_exposed():
    assert gradlab.limits()["program_chars"] == 5000
    assert list(gradlab.EXAMPLES) == ["matmul", "grad_ys", "stop_gradient"]
    with pytest.raises(ValueError, match="choose one of: matmul, grad_ys, stop_gradient"):
        gradlab.run_example("nope")


def test_constants_only_and_a_variable_as_y():
    result = gradlab.run("c = [1.5, -2]\ny = square(c)", {}, "y", "c")
    assert as_lists(result.grads) == {"c": [3.0, -4.0]}
    result = gradlab.run("y = W1\nz = W2", {"W1": [[1, 2]], "W2": 0}, ["W1", "z"], ["W1", "W2"])
    assert as_lists(result.grads) == {"W1": [[1.0, 1.0]], "W2": 1.0}
