"""Run a parsed program: evaluate every node, then tf.gradients inside a tf.function."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from deconv_widgets._tf import Tensor, tf

from .._values import unwrap_tensor
from .codegen import generate_code
from .language import FLOAT32_MAX, MAX_ARRAY_SIZE, SYMBOLS
from .parser import Node, Program, check_name, parse_program

UNCONNECTED = ("none", "zero")

_UNARY = {
    "stop_gradient": tf.stop_gradient,
    "square": tf.math.square,
    "exp": tf.math.exp,
    "log": tf.math.log,
    "sin": tf.math.sin,
    "cos": tf.math.cos,
    "tanh": tf.math.tanh,
    "sigmoid": tf.math.sigmoid,
    "relu": tf.nn.relu,
    "neg": tf.math.negative,
    "pos": tf.identity,
    "identity": tf.identity,
}
_BINARY = {
    "add": tf.math.add,
    "sub": tf.math.subtract,
    "mul": tf.math.multiply,
    "div": tf.math.divide,
    "matmul": tf.linalg.matmul,
    "maximum": tf.math.maximum,
    "minimum": tf.math.minimum,
}
_REDUCE = {"reduce_sum": tf.math.reduce_sum, "reduce_mean": tf.math.reduce_mean}


@dataclass(frozen=True)
class GradResult:
    """What `run` found: the gradients, every node's value, the graph and equivalent code."""

    grads: dict[str, np.ndarray | None]  # x -> d(sum_i <grad_ys[i], ys[i]>)/dx, None if cut
    values: dict[str, np.ndarray]  # every node id -> its value ("#k" for unnamed ones)
    graph: dict[str, list[dict[str, Any]]]  # {"nodes": [...], "edges": [...]}, plain JSON
    code: str  # a plain TensorFlow 2 program that prints the same gradients
    ys: tuple[str, ...] = ()
    xs: tuple[str, ...] = ()


def _as_value(value: Any, what: str) -> np.ndarray:
    """A value as a float64 array (TypeError naming `what` for text, bools and None)."""
    value = unwrap_tensor(value)
    if isinstance(value, bool | str | bytes) or value is None:
        raise TypeError(f"{what} must be a number or a (nested) list of numbers; got {value!r}")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"{what} must be a number or a rectangular (nested) list of numbers; got {value!r}"
        ) from err
    if array.size > MAX_ARRAY_SIZE:
        raise ValueError(f"{what} has {array.size} numbers; the limit is {MAX_ARRAY_SIZE}")
    if array.size == 0:
        raise ValueError(f"{what} is empty; give at least one number")
    if not np.all(np.isfinite(array)) or np.abs(array).max() > FLOAT32_MAX:
        raise ValueError(f"{what} must be finite numbers within float32 range (|x| <= 3.4e38)")
    return array.astype(np.float32)


def _names(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not value:
        raise TypeError(f"{what} must be a name or a non-empty list of names; got {value!r}")
    names = tuple(value)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{what} must hold names (str); got {name!r}")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{what} lists {', '.join(duplicates)} more than once")
    return names


def _evaluate(program: Program, variables: Mapping[str, Any]) -> dict[str, Any]:
    """Evaluate every node on tensors (eager or symbolic); TF errors name the line."""
    env: dict[str, Any] = {}
    for node in program.nodes:
        if node.kind == "variable":
            env[node.id] = variables[node.id]
            continue
        if node.kind == "const":
            env[node.id] = tf.constant(node.value, dtype=tf.float32)
            continue
        args = [env[i] for i in node.inputs]
        try:
            env[node.id] = _apply(node, args)
        except (tf.errors.OpError, ValueError, TypeError) as err:
            shapes = ", ".join(str(tuple(a.shape)) for a in args)
            raise ValueError(
                f"line {node.line}, col {node.col}: {_describe(node)} failed on shapes {shapes}: "
                f"{_tf_message(err)}"
            ) from None
    return env


def _apply(node: Node, args: list[Any]) -> Any:
    if node.op in _UNARY:
        return _UNARY[node.op](args[0])
    if node.op in _BINARY:
        return _BINARY[node.op](args[0], args[1])
    if node.op in _REDUCE:
        return _REDUCE[node.op](args[0], axis=node.axis)
    raise ValueError(f"unknown op {node.op!r}")  # unreachable: the parser checked it


def _describe(node: Node) -> str:
    if node.infix or node.op in ("neg", "pos"):
        return f"'{SYMBOLS[node.op]}' ({node.op})"
    return node.op


def _tf_message(err: Exception) -> str:
    """The useful first line of a TensorFlow error, without its node and op decorations."""
    message = (getattr(err, "message", None) or str(err)).strip()
    first = message.splitlines()[0] if message else type(err).__name__
    first = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", first)
    return re.sub(r"\s*\[Op:\w+\].*$", "", first).strip()


def run(
    program: str,
    values: Mapping[str, Any],
    ys: str | Sequence[str],
    xs: str | Sequence[str],
    grad_ys: Mapping[str, Any] | Sequence[Any] | None = None,
    unconnected: str = "none",
) -> GradResult:
    """Run tf.gradients(ys, xs, grad_ys, unconnected_gradients) on the program's graph."""
    parsed = parse_program(program)
    if not isinstance(values, Mapping):
        raise TypeError(
            f"values must be a dict name -> number or list; got {type(values).__name__}"
        )
    if unconnected not in UNCONNECTED:
        raise ValueError(f"unknown unconnected {unconnected!r}; choose one of: none, zero")
    variables = _check_values(parsed, values)
    ys, xs = _names(ys, "ys"), _names(xs, "xs")
    node_ids = [n.id for n in parsed.nodes if not n.id.startswith("#")]
    if not node_ids:
        raise ValueError("the program is empty; write lines like 'y = W1 + W2'")
    for what, names in (("y", ys), ("x", xs)):
        for name in names:
            if name not in node_ids:
                raise ValueError(
                    f"{what} {name!r} is not in the graph; choose from: {', '.join(node_ids)}"
                )

    env = _evaluate(parsed, {k: tf.constant(v) for k, v in variables.items()})
    node_values = {key: np.asarray(value.numpy()) for key, value in env.items()}
    seeds = _check_grad_ys(grad_ys, ys, node_values)

    grads = _gradients(parsed, variables, ys, xs, seeds, unconnected)
    graph = _graph(parsed, ys, xs, node_values)
    code = generate_code(
        parsed, variables, ys, xs, seeds if grad_ys is not None else None, unconnected
    )
    return GradResult(grads, node_values, graph, code, ys, xs)


def _check_values(program: Program, values: Mapping[str, Any]) -> dict[str, np.ndarray]:
    given = sorted(str(k) for k in values)
    for name in values:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"values keys must be names like W1; got {name!r}")
        if name in program.assigned:
            line = program.node(name).line
            raise ValueError(
                f"{name!r} is assigned by the program (line {line}) and also given in values; "
                f"a name is either a variable (in values) or assigned, not both"
            )
    missing = [name for name in program.free if name not in values]
    if missing:
        where = ", ".join(f"{n} (line {program.free[n][0]})" for n in missing)
        raise ValueError(f"no value given for {where}; given values: {', '.join(given) or 'none'}")
    variables = {}
    for name in program.free:
        line, col = program.free[name]
        check_name(name, line, col)
        variables[name] = _as_value(values[name], f"value of {name!r}")
    return variables


def _check_grad_ys(
    grad_ys: Any, ys: tuple[str, ...], node_values: dict[str, np.ndarray]
) -> list[np.ndarray]:
    """Return one upstream gradient per y (ones where not given), shape-checked."""
    if grad_ys is None:
        return [np.ones_like(node_values[y]) for y in ys]
    if isinstance(grad_ys, Mapping):
        unknown = [k for k in grad_ys if k not in ys]
        if unknown:
            raise ValueError(f"grad_ys names {unknown} that are not in ys; ys: {', '.join(ys)}")
        items = [grad_ys.get(y) for y in ys]
    elif isinstance(grad_ys, Sequence) and not isinstance(grad_ys, str):
        if len(grad_ys) != len(ys):
            raise ValueError(
                f"grad_ys has {len(grad_ys)} entries but there are {len(ys)} ys "
                f"({', '.join(ys)}); give one per y, or a dict {{y: value}}"
            )
        items = list(grad_ys)
    else:
        raise TypeError("grad_ys must be None, a dict {y: value} or a list aligned with ys")
    seeds = []
    for y, item in zip(ys, items, strict=True):
        expected = node_values[y].shape
        if item is None:
            seeds.append(np.ones(expected, np.float32))
            continue
        seed = _as_value(item, f"grad_ys for {y!r}")
        if seed.shape != expected:
            raise ValueError(
                f"grad_ys for {y!r} has shape {seed.shape} but {y} has shape {expected}; "
                f"give a value of shape {expected}"
            )
        seeds.append(seed)
    return seeds


def _gradients(
    program: Program,
    variables: dict[str, np.ndarray],
    ys: tuple[str, ...],
    xs: tuple[str, ...],
    seeds: list[np.ndarray],
    unconnected: str,
) -> dict[str, np.ndarray | None]:
    """tf.gradients(ys, xs, grad_ys=seeds) in a tf.function; None for a cut x (unconnected)."""
    names = list(variables)
    cut: list[bool] = []
    mode = tf.UnconnectedGradients.ZERO if unconnected == "zero" else tf.UnconnectedGradients.NONE

    @tf.function(autograph=False)
    def gradients(*tensors: Tensor) -> list[Tensor]:
        env = _evaluate(program, dict(zip(names, tensors, strict=True)))
        grads = tf.gradients(
            [env[y] for y in ys],
            [env[x] for x in xs],
            grad_ys=[tf.constant(s) for s in seeds],
            unconnected_gradients=mode,
        )
        cut[:] = [g is None for g in grads]
        return [tf.zeros(()) if g is None else g for g in grads]

    results = gradients(*[tf.constant(variables[n]) for n in names])
    return {
        x: None if is_cut else np.asarray(g.numpy())
        for x, g, is_cut in zip(xs, results, cut, strict=True)
    }


def _graph(
    program: Program,
    ys: tuple[str, ...],
    xs: tuple[str, ...],
    node_values: dict[str, np.ndarray],
) -> dict[str, list[dict[str, Any]]]:
    """The program's nodes and edges as the GradientsPanel draws them."""
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for node in program.nodes:
        kind = "y" if node.id in ys and node.kind != "variable" else node.kind
        label = node.name or (node.text if node.kind == "const" else SYMBOLS.get(node.op, node.op))
        nodes.append(
            {
                "id": node.id,
                "label": label if len(label) <= 40 else label[:37] + "...",
                "kind": kind,
                "op": node.op,
                "name": node.name,
                "line": node.line,
                "col": node.col,
                "text": node.text,
                "shape": list(node_values[node.id].shape),
                "is_y": node.id in ys,
                "is_x": node.id in xs,
            }
        )
        for position, source in enumerate(node.inputs):
            edges.append(
                {
                    "source": source,
                    "target": node.id,
                    "position": position,
                    "stop_gradient": node.op == "stop_gradient",
                }
            )
    return {"nodes": nodes, "edges": edges}


def eager_gradients_error() -> str:
    """Call tf.gradients eagerly, as TF1 notes do, and return the RuntimeError's message."""
    w = tf.Variable([[1.0, 2.0]])
    try:
        tf.gradients(tf.matmul(w, [[9.0], [10.0]]), [w])
    except RuntimeError as err:
        return str(err)
    raise AssertionError("tf.gradients ran eagerly; this TensorFlow behaves unlike TF 2")


__all__ = ["UNCONNECTED", "GradResult", "eager_gradients_error", "run"]
