"""The gradients lab's mini-language: parsed with `ast` against a whitelist, never evaluated.

A program is lines of `name = expression`. Expressions use names, numbers, list literals
(nested for matrices), `+ - * / @`, unary `-`/`+`, and calls of the functions in `FUNCTIONS`.
Everything else is refused with a `ValueError` that starts with "line L, col C:" (1-based).
The result is a flat list of `Node`s in evaluation order; nothing here touches TensorFlow.
"""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import numpy as np

from .language import (
    ALLOWED,
    AXIS_FUNCTIONS,
    BINARY_OPS,
    FLOAT32_MAX,
    FUNCTIONS,
    MAX_ARRAY_SIZE,
    MAX_DEPTH,
    MAX_LINES,
    MAX_NAME_LENGTH,
    MAX_NODES,
    MAX_PROGRAM_CHARS,
    REFUSED,
    REFUSED_STATEMENTS,
    RESERVED_NAMES,
)


@dataclass(frozen=True)
class Node:
    """One node of the program's graph, in evaluation order."""

    id: str  # the assigned or free name, or "#k" for an unnamed sub-expression / constant
    kind: str  # "variable" | "const" | "op"
    op: str  # "variable", "const", "identity", "add", ..., or a function name
    inputs: tuple[str, ...] = ()
    line: int = 0
    col: int = 0
    name: str | None = None  # the name a line assigned to this node, if any
    value: Any = None  # float32 ndarray for constants
    axis: int | None = None  # for reduce_sum / reduce_mean
    text: str = ""  # the source text of the expression
    infix: bool = False  # written with an operator (a @ b) rather than a call (matmul(a, b))


@dataclass
class Program:
    """A parsed program: nodes in evaluation order and the names it uses."""

    nodes: list[Node] = field(default_factory=list)
    assigned: dict[str, str] = field(default_factory=dict)  # name -> node id
    free: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> first (line, col)

    def node(self, node_id: str) -> Node:
        """Return the node with this id."""
        return self._index[node_id]

    @property
    def _index(self) -> dict[str, Node]:
        return {n.id: n for n in self.nodes}


class ProgramError(ValueError):
    """A program the lab refuses; the message starts with 'line L, col C:'."""


def _fail(line: int, col: int, message: str, allowed: bool = True) -> ProgramError:
    suffix = f"; {ALLOWED}" if allowed else ""
    return ProgramError(f"line {line}, col {col}: {message}{suffix}")


def _at(node: ast.AST, lines: list[bytes] | None = None) -> tuple[int, int]:
    """1-based (line, column in characters) of a node; ast counts columns in UTF-8 bytes."""
    line, offset = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
    if lines is not None and 0 < line <= len(lines):
        offset = len(lines[line - 1][:offset].decode("utf-8", errors="replace"))
    return line, offset + 1


def check_name(name: str, line: int, col: int, what: str = "name") -> None:
    """Refuse dunders, private, reserved, built-in and function names."""
    if name.startswith("__"):
        raise _fail(line, col, f"names starting with '__' are not allowed: {name!r}")
    if name.startswith("_"):
        raise _fail(line, col, f"{what} {name!r} must start with a letter", allowed=False)
    if len(name) > MAX_NAME_LENGTH:
        raise _fail(line, col, f"{what} is longer than {MAX_NAME_LENGTH} characters", False)
    if name in FUNCTIONS:
        raise _fail(line, col, f"{name!r} is a function; call it as {name}(...)")
    if name in RESERVED_NAMES:
        raise _fail(line, col, f"{name!r} is a reserved Python/TensorFlow name; pick another")


def precheck(source: Any) -> str:
    """Refuse non-strings, too long programs and too deep bracket nesting before ast.parse."""
    if not isinstance(source, str):
        raise TypeError(f"program must be a str; got {type(source).__name__}")
    if len(source) > MAX_PROGRAM_CHARS:
        raise ProgramError(
            f"program is {len(source)} characters long; the limit is {MAX_PROGRAM_CHARS}"
        )
    lines = source.splitlines()
    if len(lines) > MAX_LINES:
        raise ProgramError(f"program has {len(lines)} lines; the limit is {MAX_LINES}")
    if "\x00" in source:
        line = source[: source.index("\x00")].count("\n") + 1
        raise _fail(line, 1, "the program contains a NUL character", allowed=False)
    depth = 0  # across lines: brackets may continue an expression on the next line
    for number, text in enumerate(lines, start=1):
        for col, char in enumerate(text, start=1):
            if char == "#":
                break
            if char in "([{":
                depth += 1
                if depth > MAX_DEPTH:
                    raise _fail(number, col, f"nesting deeper than {MAX_DEPTH} levels", False)
            elif char in ")]}":
                depth -= 1
    return source


def _depth(tree: ast.AST) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def parse_program(source: str) -> Program:
    """Parse and whitelist-check a program; raise ValueError with line and column otherwise."""
    source = precheck(source)
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as err:
        raise _fail(err.lineno or 1, err.offset or 1, f"syntax error: {err.msg}", False) from None
    except (RecursionError, MemoryError):
        raise ProgramError(
            f"program is nested too deeply to parse; the limit is {MAX_DEPTH} levels"
        ) from None
    if _depth(tree) > MAX_DEPTH + 2:
        raise ProgramError(f"expression nested deeper than {MAX_DEPTH} levels")
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ProgramError(f"program has {count} syntax nodes; the limit is {MAX_NODES}")
    return _Builder(source).build(tree)


class _Builder:
    """Turn the checked AST into Nodes, refusing anything off the whitelist."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.program = Program()
        self.counter = 0
        self.lines_used: dict[int, int] = {}
        self.byte_lines = [line.encode("utf-8") for line in source.splitlines()]

    def _at(self, node: ast.AST) -> tuple[int, int]:
        return _at(node, self.byte_lines)

    def build(self, tree: ast.Module) -> Program:
        for statement in tree.body:
            self._statement(statement)
        return self.program

    def _statement(self, statement: ast.stmt) -> None:
        line, col = self._at(statement)
        if isinstance(statement, ast.Expr):
            # report what is wrong inside a bare expression first (e.g. `eval(...)`), with a
            # throwaway builder of this same class so that nothing is added to this program
            _Builder(self.source)._expression(statement.value)  # noqa: SLF001
        if type(statement) in REFUSED_STATEMENTS:
            raise _fail(line, col, REFUSED_STATEMENTS[type(statement)])
        if not isinstance(statement, ast.Assign):
            raise _fail(
                line,
                col,
                f"{type(statement).__name__} statements are not allowed; "
                "each line must be 'name = expression'",
            )
        if line in self.lines_used:
            raise _fail(line, col, "one assignment per line, please", allowed=False)
        self.lines_used[line] = col
        if len(statement.targets) != 1 or not isinstance(statement.targets[0], ast.Name):
            raise _fail(line, col, "assign to exactly one plain name: 'name = expression'")
        target = statement.targets[0].id
        check_name(target, line, col)
        if target in self.program.assigned:
            first = self.program.node(self.program.assigned[target]).line
            raise _fail(
                line,
                col,
                f"{target!r} is already assigned on line {first}; every name is assigned once",
                allowed=False,
            )
        if target in self.program.free:
            used_line = self.program.free[target][0]
            raise _fail(
                line,
                col,
                f"{target!r} is used on line {used_line} before it is "
                "assigned; assign names before using them",
                allowed=False,
            )
        node_id = self._expression(statement.value)
        node = self.program.node(node_id)
        if node.name is not None or node.kind == "variable":
            # `a = b`: a new identity node, so that `a` is its own tensor
            node_id = self._add("op", "identity", (node_id,), statement.value)
            node = self.program.node(node_id)
        index = self.program.nodes.index(node)
        text = ast.get_source_segment(self.source, statement.value) or ""
        named = dataclasses.replace(node, id=target, name=target, text=text)
        self.program.nodes[index] = named
        self.program.assigned[target] = target

    def _add(self, kind: str, op: str, inputs: tuple[str, ...], at: ast.AST, **extra: Any) -> str:
        self.counter += 1
        node_id = f"#{self.counter}"
        line, col = self._at(at)
        text = ast.get_source_segment(self.source, at) or ""
        self.program.nodes.append(Node(node_id, kind, op, inputs, line, col, text=text, **extra))
        return node_id

    def _expression(self, expr: ast.expr) -> str:
        line, col = self._at(expr)
        if type(expr) in REFUSED:
            raise _fail(line, col, REFUSED[type(expr)])
        if isinstance(expr, ast.Name):
            return self._name(expr, line, col)
        if isinstance(expr, ast.Constant | ast.List) or self._is_negative_number(expr):
            value = np.asarray(self._literal(expr), dtype=np.float32)
            return self._add("const", "const", (), expr, value=value)
        if isinstance(expr, ast.BinOp):
            if isinstance(expr.op, ast.Pow):
                raise _fail(line, col, "'**' is not allowed (use square(x) or x * x)")
            if type(expr.op) not in BINARY_OPS:
                raise _fail(line, col, f"the operator {type(expr.op).__name__} is not allowed")
            left, right = self._expression(expr.left), self._expression(expr.right)
            return self._add("op", BINARY_OPS[type(expr.op)], (left, right), expr, infix=True)
        if isinstance(expr, ast.UnaryOp):
            if not isinstance(expr.op, ast.USub | ast.UAdd):
                raise _fail(
                    line, col, f"the unary operator {type(expr.op).__name__} is not allowed"
                )
            operand = self._expression(expr.operand)
            op = "neg" if isinstance(expr.op, ast.USub) else "pos"
            return self._add("op", op, (operand,), expr)
        if isinstance(expr, ast.Call):
            return self._call(expr, line, col)
        raise _fail(line, col, f"{type(expr).__name__} is not allowed")

    def _name(self, expr: ast.Name, line: int, col: int) -> str:
        name = expr.id
        if name in self.program.assigned:
            return name
        check_name(name, line, col)
        if name not in self.program.free:
            self.program.free[name] = (line, col)
            self.program.nodes.append(
                Node(name, "variable", "variable", (), line, col, name, text=name)
            )
        return name

    @staticmethod
    def _is_negative_number(expr: ast.expr) -> TypeGuard[ast.UnaryOp]:
        """True for a signed number literal such as -3 or +2.5 (a unary op on a constant)."""
        return (
            isinstance(expr, ast.UnaryOp)
            and isinstance(expr.op, ast.USub | ast.UAdd)
            and isinstance(expr.operand, ast.Constant)
        )

    def _literal(self, expr: ast.expr) -> Any:
        """A number or a (nested) list of numbers; sizes checked, floats finite in float32."""
        line, col = self._at(expr)
        if self._is_negative_number(expr):
            sign = -1.0 if isinstance(expr.op, ast.USub) else 1.0
            return sign * self._literal(expr.operand)
        if isinstance(expr, ast.Constant):
            value = expr.value
            if isinstance(value, bool) or not isinstance(value, int | float):
                kind = "strings" if isinstance(value, str | bytes) else repr(value)
                raise _fail(
                    line,
                    col,
                    f"{kind} are not allowed"
                    if kind == "strings"
                    else f"the constant {kind} is not allowed",
                )
            try:
                number = float(value)
            except OverflowError:
                number = float("inf")
            if not np.isfinite(number) or abs(number) > FLOAT32_MAX:
                text = ast.get_source_segment(self.source, expr)
                limit = f"|x| <= {FLOAT32_MAX:.3g}"
                raise _fail(
                    line, col, f"the number {text} is out of float32 range ({limit})", False
                )
            return number
        if isinstance(expr, ast.List):
            if not expr.elts:
                raise _fail(line, col, "empty lists are not allowed", allowed=False)
            items = [self._literal(item) for item in expr.elts]
            shapes = {np.shape(item) for item in items}
            if len(shapes) != 1:
                raise _fail(line, col, "a matrix's rows must all have the same length", False)
            if np.size(items) > MAX_ARRAY_SIZE:
                raise _fail(line, col, f"list has more than {MAX_ARRAY_SIZE} numbers", False)
            return items
        if type(expr) in REFUSED:
            raise _fail(line, col, REFUSED[type(expr)])
        raise _fail(line, col, "lists may only hold numbers and lists of numbers", False)

    def _call(self, expr: ast.Call, line: int, col: int) -> str:
        if not isinstance(expr.func, ast.Name):
            if type(expr.func) in REFUSED:
                raise _fail(*self._at(expr.func), REFUSED[type(expr.func)])
            raise _fail(line, col, "only calls of the listed functions by name are allowed")
        name = expr.func.id
        if name not in FUNCTIONS:
            raise _fail(
                line,
                col,
                f"unknown function {name!r}; allowed functions: " + ", ".join(FUNCTIONS),
                allowed=False,
            )
        for arg in expr.args:
            if isinstance(arg, ast.Starred):
                raise _fail(*self._at(arg), REFUSED[ast.Starred])
        axis = None
        for kw in expr.keywords:
            axis = self._axis(name, kw)
        arity = FUNCTIONS[name]
        if len(expr.args) != arity:
            plural = "s" if arity > 1 else ""
            raise _fail(
                line,
                col,
                f"{name} takes {arity} argument{plural}; got {len(expr.args)}",
                allowed=False,
            )
        inputs = tuple(self._expression(arg) for arg in expr.args)
        return self._add("op", name, inputs, expr, axis=axis)

    def _axis(self, name: str, kw: ast.keyword) -> int:
        """The int of an `axis=` keyword of a reduction; any other keyword is refused."""
        where = self._at(kw)
        if kw.arg is None:
            raise _fail(*where, "'**' keyword unpacking is not allowed")
        if kw.arg != "axis" or name not in AXIS_FUNCTIONS:
            raise _fail(
                *where,
                f"keyword {kw.arg!r} is not allowed; only axis=<int> "
                f"for {' and '.join(AXIS_FUNCTIONS)}",
                allowed=False,
            )
        inner = kw.value
        negative = False
        if isinstance(inner, ast.UnaryOp) and isinstance(inner.op, ast.USub):
            negative, inner = True, inner.operand
        if not (isinstance(inner, ast.Constant) and type(inner.value) is int):
            raise _fail(*where, "axis must be an integer like axis=0 or axis=-1", False)
        if abs(inner.value) > 32:
            raise _fail(*where, "axis must be between -32 and 32", False)
        return -inner.value if negative else inner.value


__all__ = ["Node", "Program", "ProgramError", "check_name", "parse_program"]
