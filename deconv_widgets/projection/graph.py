"""Read a Keras model's layer graph: nodes in forward order, paths, receptive fields."""

from __future__ import annotations

from deconv_widgets._tf import tf

# isort: split

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from .kinds import Alias, activation_kind, kind_of, same_padding_before


@dataclass(frozen=True)
class LayerInfo:
    """One layer with a 4-D output (or the class head): kind, output shape, size, field."""

    name: str
    kind: str
    output_shape: tuple[int | None, ...]  # (H, W, C); (classes,) for the class head
    params: int
    receptive_field: int
    jump: int

    @property
    def channels(self) -> int:
        """The number of channels (classes for the class head): the output's last axis."""
        return int(self.output_shape[-1] or 0)


@dataclass(frozen=True)
class GraphNode:
    """One call of a layer inside the model: input and output tensor ids, in forward order."""

    layer: Any  # a keras Layer, an Operation (keras.ops on KerasTensors) or a kinds.Alias
    inputs: tuple[Any, ...]  # KerasTensors
    output: Any  # KerasTensor
    arguments: Any = None  # how the model called it (keras SymbolicArguments), if known
    name: str = ""  # the layer's name, "outer/inner" inside a flattened nested model

    def __post_init__(self) -> None:
        """The name defaults to the layer's own."""
        if not self.name:
            object.__setattr__(self, "name", self.layer.name)

    @property
    def kind(self) -> str:
        """The layer's class name (a nested model's class for its output)."""
        return self.layer.kind if isinstance(self.layer, Alias) else type(self.layer).__name__

    @property
    def input_ids(self) -> tuple[int, ...]:
        """Ids of the input tensors (keys of the engine's tensor maps)."""
        return tuple(id(t) for t in self.inputs)

    @property
    def output_id(self) -> int:
        """Id of the output tensor."""
        return id(self.output)


@dataclass(frozen=True)
class Trace:
    """One image's forward pass up to a layer: the nodes on the way and every tensor's value."""

    path: list[GraphNode]  # forward order; the target layer's node last
    values: dict[int, np.ndarray]  # tensor id -> its value for the image, batch axis dropped


def functional_of(model: Any) -> Any:
    """The Functional graph behind a keras Model or Sequential (clear error when there is none)."""
    if not isinstance(model, keras.Model):
        raise TypeError(
            "model must be a keras.Model (Sequential or Functional) or the path of a .keras "
            f"file, got {type(model).__name__}"
        )
    graph = getattr(model, "_functional", None) if isinstance(model, keras.Sequential) else model
    if not isinstance(model, keras.Sequential) and not hasattr(graph, "_nodes_by_depth"):
        raise ValueError(
            f"model {model.name!r} is a subclassed keras.Model ({type(model).__name__}) whose "
            "call() has no layer graph to read; the Projector takes keras.Sequential models "
            "and Functional ones (inputs = keras.Input((H, W, C)); outputs = layers applied to "
            "inputs; keras.Model(inputs, outputs)): rebuild it that way"
        )
    if graph is None or not hasattr(graph, "_nodes_by_depth"):
        raise ValueError(
            f"model {model.name!r} has no layer graph yet; give it an input shape, e.g. "
            "keras.Sequential([keras.Input((64, 64, 1)), ...]) or build it before projecting"
        )
    if len(graph.inputs) != 1 or len(graph.inputs[0].shape) != 4:
        shapes = [tuple(t.shape) for t in graph.inputs]
        raise ValueError(
            f"model {model.name!r} must have exactly one image input of shape (H, W, C); "
            f"it has inputs {shapes}"
        )
    return graph


def check_channels_last(nodes: list[GraphNode]) -> None:
    """Refuse layers with data_format='channels_first' (the Projector reads (H, W, C))."""
    for node in nodes:
        if getattr(node.layer, "data_format", None) == "channels_first":
            raise ValueError(
                f"layer {node.name!r} ({node.kind}) uses "
                "data_format='channels_first'; the Projector needs channels_last images "
                "(H, W, C): rebuild the model with data_format='channels_last' (the default)"
            )


def _keras_nodes(graph: Any) -> list[Any]:
    """The graph's keras nodes in an order where inputs come first (input nodes left out)."""
    by_depth = graph._nodes_by_depth  # noqa: SLF001  (Keras has no public API for the nodes)
    return [
        node
        for depth in sorted(by_depth, reverse=True)
        for node in by_depth[depth]
        if not node.is_input and node.operation
    ]


def _inner_graph(operation: Any, node: Any, calls: int) -> Any:
    """The Functional graph of a nested model to flatten, or None (kept as one layer).

    Flattened: a Functional or Sequential model with one input and one output, called once
    here on one tensor. Others (shared, several inputs or outputs) pass by their gradient.
    """
    if not isinstance(operation, keras.Model) or calls != 1 or len(node.input_tensors) != 1:
        return None
    graph = (
        getattr(operation, "_functional", None)
        if isinstance(operation, keras.Sequential)
        else operation
    )
    if graph is None or not hasattr(graph, "_nodes_by_depth"):
        return None
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        return None
    return graph


def forward_nodes(graph: Any, prefix: str = "") -> list[GraphNode]:
    """Every non-input layer call of the graph, in an order where inputs come first.

    Nested models are flattened: their layers are listed as "outer/inner", between an alias
    of their input (hidden) and an alias of their output (named as the nested model).
    """
    keras_nodes = _keras_nodes(graph)
    calls: dict[int, int] = {}
    for node in keras_nodes:
        calls[id(node.operation)] = calls.get(id(node.operation), 0) + 1
    nodes: list[GraphNode] = []
    for node in keras_nodes:
        if len(node.outputs) != 1:
            continue  # multi-output layers are never on an image path we can project
        operation, name = node.operation, prefix + node.operation.name
        inner = _inner_graph(operation, node, calls[id(operation)])
        if inner is None:
            nodes.append(
                GraphNode(
                    operation,
                    tuple(node.input_tensors),
                    node.outputs[0],
                    getattr(node, "arguments", None),
                    name,
                )
            )
            continue
        kind = type(operation).__name__
        entry = Alias(f"{name}/{inner.inputs[0].name}", kind, shown=False)
        nodes.append(GraphNode(entry, tuple(node.input_tensors), inner.inputs[0], None, entry.name))
        nodes.extend(forward_nodes(inner, f"{name}/"))
        nodes.append(GraphNode(Alias(name, kind), (inner.outputs[0],), node.outputs[0], None, name))
    return nodes


def call_as_in_model(node: GraphNode, values: list[Any]) -> Any:
    """Call a node's layer (or keras operation) on new input values, the way the model did."""
    layer = node.layer
    if node.arguments is None:
        return layer(values if len(values) > 1 else values[0], training=False)
    args, kwargs = node.arguments.fill_in(
        {id(tensor): value for tensor, value in zip(node.inputs, values, strict=True)}
    )
    if isinstance(layer, keras.layers.Layer):
        kwargs = {**kwargs, "training": False}
    return layer(*args, **kwargs)


def run_path(path: list[GraphNode], input_tensor: Any, image: Any) -> dict[int, Any]:
    """The value of every tensor of `path` on `image` (traced): tensor id -> value."""
    dtype = getattr(input_tensor, "dtype", "float32")
    if dtype not in ("float32", None):  # fed as float32 whatever the Input's dtype
        image = tf.cast(image, dtype)
    values = {id(input_tensor): image}
    for node in path:
        values[node.output_id] = call_as_in_model(node, [values[i] for i in node.input_ids])
    return values


def own_activation_of(node: GraphNode) -> Callable[[Any], Any] | None:
    """A layer's own nonlinear activation (Conv2D(activation="relu"), ...); None if it has none."""
    function = getattr(node.layer, "activation", None)
    if isinstance(node.layer, keras.Model) or activation_kind(function) == "linear":
        return None
    return function


def path_to(nodes: list[GraphNode], *targets: GraphNode) -> list[GraphNode]:
    """The nodes the targets depend on (targets included), in forward order."""
    needed = {target.output_id for target in targets}
    path = []
    for node in reversed(nodes):
        if node.output_id in needed:
            path.append(node)
            needed.update(node.input_ids)
    return path[::-1]


def _largest(value: Any) -> int:
    """The larger of an (h, w) argument, or an int argument itself."""
    return int(np.max(value))


def window_of(layer: Any) -> tuple[int, int, int]:
    """(kernel, stride, dilation) of a layer along rows (max over both axes), 1s if none."""
    if hasattr(layer, "kernel_size") and hasattr(layer, "strides"):
        dilation = _largest(getattr(layer, "dilation_rate", 1))
        return _largest(layer.kernel_size), _largest(layer.strides), dilation
    if hasattr(layer, "pool_size") and hasattr(layer, "strides"):
        return _largest(layer.pool_size), _largest(layer.strides), 1
    return 1, 1, 1


def _pad_before(
    layer: Any, size_in: int | None, size_out: int | None, span: int, stride: int
) -> int:
    """Rows a layer pads (or, negative, crops) before its input along one axis: its kind's."""
    kind = kind_of(layer)
    pad_before = kind.pad_before if kind is not None else same_padding_before
    return pad_before(layer, size_in, size_out, span, stride)


def receptive_fields(graph: Any, nodes: list[GraphNode]) -> dict[int, tuple[int, int, float]]:
    """(receptive field, jump, centre of position 0) in input pixels per tensor id.

    Along rows; at merges the maximum field and jump over the branches (and the first
    branch's centre) are taken.
    """
    fields = {id(graph.inputs[0]): (1, 1, 0.0)}
    for node in nodes:
        known = [fields[i] for i in node.input_ids if i in fields]
        if not known:
            continue
        field_in = max(rf for rf, _, _ in known)
        jump_in = max(jump for _, jump, _ in known)
        centre_in = known[0][2]
        kernel, stride, dilation = window_of(node.layer)
        span = (kernel - 1) * dilation + 1
        shape_in, shape_out = node.inputs[0].shape, node.output.shape
        size_in = shape_in[1] if len(shape_in) == 4 else None
        size_out = shape_out[1] if len(shape_out) == 4 else None
        before = _pad_before(node.layer, size_in, size_out, span, stride)
        centre = centre_in + ((span - 1) / 2 - before) * jump_in
        fields[node.output_id] = (field_in + (span - 1) * jump_in, jump_in * stride, centre)
    return fields


def _params(layer: Any) -> int:
    """Weights of a layer; 0 for a plain operation (keras.ops called in a Functional model)."""
    return int(layer.count_params()) if hasattr(layer, "count_params") else 0


def unreachable_input(path: list[GraphNode], input_tensor: Any) -> Any:
    """The first tensor the path uses that no node of the path (nor the input) produces."""
    produced = {id(input_tensor)} | {node.output_id for node in path}
    for node in path:
        for tensor in node.inputs:
            if id(tensor) not in produced:
                return tensor
    return None


def layer_infos(graph: Any, nodes: list[GraphNode]) -> list[LayerInfo]:
    """A LayerInfo for the first call of every layer whose output is 4-D (the input excluded)."""
    fields = receptive_fields(graph, nodes)
    infos, seen = [], set()
    for node in nodes:
        if node.name in seen or len(node.output.shape) != 4:
            continue
        if isinstance(node.layer, Alias) and not node.layer.shown:
            continue
        seen.add(node.name)
        field, jump, _ = fields.get(node.output_id, (0, 0, 0.0))
        infos.append(
            LayerInfo(
                name=node.name,
                kind=node.kind,
                output_shape=tuple(node.output.shape[1:]),
                params=_params(node.layer),
                receptive_field=int(field),
                jump=int(jump),
            )
        )
    return infos


@dataclass(frozen=True)
class ClassHead:
    """The node giving the class scores, the output before its softmax."""

    node: GraphNode
    drop_activation: bool  # the node's own activation is the softmax (Dense(activation=...))
    classes: int


def _is_softmax(function: Any) -> bool:
    """True for keras' softmax activation."""
    return function is keras.activations.softmax


def class_head(graph: Any, nodes: list[GraphNode]) -> ClassHead | None:
    """The class head of a model whose (first) output is (N, classes); None otherwise.

    A last Softmax (or Activation("softmax")) layer is stepped over; a last Dense with
    activation="softmax" keeps its node and drops the activation.
    """
    output = graph.outputs[0]
    if len(output.shape) != 2:
        return None
    by_output = {node.output_id: node for node in nodes}
    node = by_output.get(id(output))
    if node is None:
        return None
    layer = node.layer
    separate = isinstance(layer, keras.layers.Softmax) or (
        isinstance(layer, keras.layers.Activation) and _is_softmax(layer.activation)
    )
    if separate:
        node = by_output.get(id(node.inputs[0]))
        if node is None:
            return None
        return ClassHead(node, False, int(output.shape[-1]))
    drop = _is_softmax(getattr(layer, "activation", None))
    if drop and type(layer) is not keras.layers.Dense:
        return None  # no way to take its output before the softmax
    return ClassHead(node, drop, int(output.shape[-1]))


def scope_name(name: str) -> str:
    """A layer name made safe for a TensorFlow name scope (layer names may hold any text)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


@dataclass
class ModelGraph:
    """A model's layer graph as the projections read it, with the functions compiled on it.

    The Projector builds one (`Projector.graph`); the lenses and the occlusion share it.
    """

    functional: Any  # the keras Functional behind the model
    nodes: list[GraphNode]  # every layer call, in an order where inputs come first
    lock: threading.RLock = field(default_factory=threading.RLock)  # widgets use threads
    node_of: dict[str, GraphNode] = field(init=False)  # the first call of each layer, by name
    _compiled: dict[tuple, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        """Index the nodes by layer name (a layer called twice: its first call)."""
        self.node_of = {}
        for node in self.nodes:
            self.node_of.setdefault(node.name, node)

    @property
    def input(self) -> Any:
        """The model's image input (a KerasTensor)."""
        return self.functional.inputs[0]

    def path(self, target: GraphNode) -> list[GraphNode]:
        """The nodes `target` depends on (target included), in forward order."""
        return path_to(self.nodes, target)

    def path_to_all(self, targets: list[GraphNode]) -> list[GraphNode]:
        """The nodes any of `targets` depends on (targets included), in forward order."""
        return path_to(self.nodes, *targets)

    def run(self, image: Any, targets: list[GraphNode], linear: bool = False) -> list[Any]:
        """The outputs of `targets` on an image batch (traced; call inside a tf.function).

        `linear`: the targets' own activations (Conv2D(activation=...)) left out: their
        pre-activations (`own_activation_of` gives each function, or None).
        """
        with self.lock, self.safe_names(), self._without_activations(targets if linear else []):
            values = run_path(self.path_to_all(targets), self.input, image)
        return [values[node.output_id] for node in targets]

    @contextmanager
    def _without_activations(self, targets: list[GraphNode]) -> Iterator[None]:
        """While tracing (under the lock), the targets' own activations are the identity."""
        swapped = [(n.layer, n.layer.activation) for n in targets if own_activation_of(n)]
        try:
            for layer, _ in swapped:
                layer.activation = keras.activations.linear
            yield
        finally:
            for layer, function in swapped:
                layer.activation = function

    def compiled(self, key: tuple, build: Callable[[], Any]) -> Any:
        """The function built (once per key, under the lock) by `build`."""
        with self.lock:
            if key not in self._compiled:
                self._compiled[key] = build()
            return self._compiled[key]

    @contextmanager
    def safe_names(self) -> Iterator[None]:
        """While tracing, give layers whose names TensorFlow refuses as scopes a safe name.

        Keras layer names may hold any text (even HTML), but a layer calls itself inside a name
        scope of its own name, and graph tracing rejects most punctuation. The original names
        come back as soon as the trace ends; nothing else sees the temporary ones.
        """
        inner = [n.layer for n in self.nodes if isinstance(n.layer, keras.layers.Layer)]
        layers = {id(layer): layer for layer in [*self.functional.layers, *inner]}
        renamed = [
            (layer, layer.name) for layer in layers.values() if scope_name(layer.name) != layer.name
        ]
        # inside a scope of ours: a nested scope may start with "_", a root scope may not
        with tf.name_scope("model"):
            if not renamed:
                yield
                return
            with self.lock:  # a trace on another thread must not see (or restore) these names
                for layer, name in renamed:
                    layer.name = scope_name(name)
                try:
                    yield
                finally:
                    for layer, name in renamed:
                        layer.name = name
