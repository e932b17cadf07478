"""The gradients lab's language: allowed functions and operators, limits, refusal messages."""

from __future__ import annotations

import ast
import builtins

import numpy as np

# function name -> number of positional arguments
FUNCTIONS: dict[str, int] = {
    "stop_gradient": 1,
    "matmul": 2,
    "square": 1,
    "exp": 1,
    "log": 1,
    "sin": 1,
    "cos": 1,
    "tanh": 1,
    "sigmoid": 1,
    "relu": 1,
    "reduce_sum": 1,
    "reduce_mean": 1,
    "maximum": 2,
    "minimum": 2,
}
AXIS_FUNCTIONS = ("reduce_sum", "reduce_mean")
BINARY_OPS = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.Div: "div",
    ast.MatMult: "matmul",
}
SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "matmul": "@", "neg": "-", "pos": "+"}

MAX_PROGRAM_CHARS = 5000
MAX_LINES = 100
MAX_NODES = 500
MAX_DEPTH = 40
MAX_ARRAY_SIZE = 10_000
MAX_NAME_LENGTH = 64
FLOAT32_MAX = float(np.finfo(np.float32).max)

ALLOWED = "allowed: names, numbers, [lists], + - * / @, unary - and +, and calls of " + ", ".join(
    FUNCTIONS
)
# names the generated code uses itself, and Python's built-ins (print, open, sum, ...)
CODE_NAMES = {"tf", "np", "tape", "grad_ys", "grads", "grad", "name", "way"}
CODE_NAMES |= {"with_tf_gradients", "with_gradient_tape"}
RESERVED_NAMES = frozenset(CODE_NAMES | set(dir(builtins)))

REFUSED = {
    ast.Attribute: "attribute access (a.b) is not allowed",
    ast.Subscript: "subscripts (a[i]) are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "generator expressions are not allowed",
    ast.NamedExpr: "the walrus operator ':=' is not allowed",
    ast.Starred: "starred expressions (*a) are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "'and'/'or' are not allowed",
    ast.IfExp: "conditional expressions are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.Set: "sets are not allowed",
    ast.Tuple: "tuples are not allowed (use [lists])",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Slice: "slices are not allowed",
}
REFUSED_STATEMENTS = {
    ast.Import: "import is not allowed",
    ast.ImportFrom: "import is not allowed",
    ast.AugAssign: "augmented assignment (+= etc.) is not allowed; write 'name = expression'",
    ast.AnnAssign: "annotated assignment is not allowed; write 'name = expression'",
    ast.Expr: "each line must be an assignment 'name = expression'",
    ast.FunctionDef: "function definitions are not allowed",
    ast.ClassDef: "class definitions are not allowed",
    ast.Delete: "del is not allowed",
}

__all__ = [
    "ALLOWED",
    "AXIS_FUNCTIONS",
    "BINARY_OPS",
    "FLOAT32_MAX",
    "FUNCTIONS",
    "MAX_ARRAY_SIZE",
    "MAX_DEPTH",
    "MAX_LINES",
    "MAX_NAME_LENGTH",
    "MAX_NODES",
    "MAX_PROGRAM_CHARS",
    "REFUSED",
    "REFUSED_STATEMENTS",
    "RESERVED_NAMES",
    "SYMBOLS",
]
