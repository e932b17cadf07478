"""Issue 7's gradients-lab matrix: every hostile or broken program gets a clear ValueError.

Each case asserts the error type and that the message names the problem (and where there are
choices, the choices). Nothing here may hang, crash the interpreter or run the user's text.
"""

from __future__ import annotations

import re

import pytest

from deconv_widgets import gradlab

ALLOWED = r"allowed: names, numbers, \[lists\], \+ - \* / @, unary - and \+, and calls of stop"
FUNCS = r"allowed functions: stop_gradient, matmul, square, exp, log"
VALUES = {"W1": [1.0, 2.0], "W2": [3.0, 4.0], "W3": [5.0, 6.0]}

# (id, program, error type, patterns that must all appear in the message)
PROGRAMS = [
    ("import", "import os", ValueError, [r"^line 1, col 1: import is not allowed", ALLOWED]),
    ("from import", "y = W1\nfrom os import system", ValueError, [r"^line 2, col 1: import"]),
    ("dunder attr", "y = W1.__class__", ValueError, [r"line 1, col 5: attribute access", ALLOWED]),
    ("attr", "y = W1.T", ValueError, [r"attribute access \(a\.b\) is not allowed"]),
    (
        "attr chain",
        "y = W1.__class__.__bases__[0].__subclasses__()",
        ValueError,
        [r"line 1, col 5: attribute access"],
    ),
    ("__import__", "y = __import__('os')", ValueError, [r"unknown function '__import__'", FUNCS]),
    ("eval", "y = eval('1 + 1')", ValueError, [r"line 1, col 5: unknown function 'eval'", FUNCS]),
    ("exec", "y = exec('import os')", ValueError, [r"unknown function 'exec'", FUNCS]),
    ("open", "y = open('/etc/passwd')", ValueError, [r"unknown function 'open'", FUNCS]),
    ("bare eval", "eval('1')", ValueError, [r"unknown function 'eval'"]),
    ("dunder name", "y = __builtins__", ValueError, [r"names starting with '__' are not allowed"]),
    ("dunder target", "__x = W1", ValueError, [r"names starting with '__'"]),
    ("lambda", "y = lambda: W1", ValueError, [r"line 1, col 5: lambda is not allowed", ALLOWED]),
    ("lambda call", "y = (lambda: 1)()", ValueError, [r"lambda is not allowed"]),
    ("list comp", "y = [w for w in W1]", ValueError, [r"comprehensions are not allowed", ALLOWED]),
    ("generator", "y = reduce_sum(w for w in W1)", ValueError, [r"generator expressions"]),
    ("dict comp", "y = {k: 1 for k in W1}", ValueError, [r"comprehensions are not allowed"]),
    ("subscript", "y = W1[0]", ValueError, [r"line 1, col 5: subscripts \(a\[i\]\)", ALLOWED]),
    ("slice", "y = W1[0:1]", ValueError, [r"subscripts"]),
    ("power", "y = W1 ** 2", ValueError, [r"'\*\*' is not allowed \(use square", ALLOWED]),
    ("huge power", "y = 9 ** 9 ** 9 ** 9", ValueError, [r"'\*\*' is not allowed"]),
    ("kwargs unpack", "y = exp(W1, **{'a': 1})", ValueError, [r"'\*\*' keyword unpacking"]),
    (
        "keyword",
        "y = reduce_sum(W1, keepdims=True)",
        ValueError,
        [r"keyword 'keepdims' is not allowed; only axis=<int> for reduce_sum and reduce_mean"],
    ),
    ("keyword exp", "y = exp(x=W1)", ValueError, [r"keyword 'x' is not allowed"]),
    ("axis string", "y = reduce_sum(W1, axis='0')", ValueError, [r"axis must be an integer"]),
    ("string", "y = 'hello'", ValueError, [r"strings are not allowed", ALLOWED]),
    ("bytes", "y = b'x'", ValueError, [r"strings are not allowed"]),
    ("f-string", "y = f'{W1}'", ValueError, [r"f-strings are not allowed"]),
    ("starred", "y = maximum(*W1)", ValueError, [r"starred expressions \(\*a\) are not allowed"]),
    ("walrus", "y = (z := W1)", ValueError, [r"line 1, col 6: the walrus operator ':='"]),
    ("conditional", "y = W1 if W2 else W3", ValueError, [r"conditional expressions"]),
    ("compare", "y = W1 < W2", ValueError, [r"comparisons are not allowed"]),
    ("boolop", "y = W1 and W2", ValueError, [r"'and'/'or' are not allowed"]),
    ("dict", "y = {1: 2}", ValueError, [r"dicts are not allowed"]),
    ("tuple", "y = (W1, W2)", ValueError, [r"tuples are not allowed \(use \[lists\]\)"]),
    ("modulo", "y = W1 % 2", ValueError, [r"the operator Mod is not allowed", ALLOWED]),
    ("invert", "y = ~W1", ValueError, [r"the unary operator Invert is not allowed"]),
    ("true", "y = True", ValueError, [r"the constant True is not allowed"]),
    ("none", "y = None", ValueError, [r"the constant None is not allowed"]),
    ("complex", "y = 2j", ValueError, [r"the constant 2j is not allowed"]),
    ("augassign", "y = W1\ny += W2", ValueError, [r"line 2, col 1: augmented assignment"]),
    ("bare expr", "W1 + W2", ValueError, [r"each line must be an assignment 'name = expression'"]),
    ("two per line", "y = W1; z = W2", ValueError, [r"line 1, col 9: one assignment per line"]),
    (
        "reassign",
        "y = W1\ny = W2",
        ValueError,
        [r"line 2, col 1: 'y' is already assigned on line 1"],
    ),
    ("chained", "a = b = W1", ValueError, [r"assign to exactly one plain name"]),
    ("tuple target", "a, b = W1, W2", ValueError, [r"assign to exactly one plain name"]),
    ("function name", "exp = W1", ValueError, [r"'exp' is a function; call it as exp\(\.\.\.\)"]),
    ("function value", "y = exp", ValueError, [r"'exp' is a function"]),
    ("builtin name", "print = W1", ValueError, [r"'print' is a reserved Python/TensorFlow name"]),
    ("tf name", "y = tf", ValueError, [r"'tf' is a reserved"]),
    (
        "use before assign",
        "y = x + W1\nx = W2",
        ValueError,
        [r"line 2, col 1: 'x' is used on line 1 before it is assigned"],
    ),
    ("def", "def f():\n    return 1", ValueError, [r"function definitions are not allowed"]),
    ("class", "class A:\n    pass", ValueError, [r"class definitions are not allowed"]),
    ("if", "if W1:\n    y = W1", ValueError, [r"If statements are not allowed"]),
    ("with", "with open('f') as f:\n    y = 1", ValueError, [r"With statements are not allowed"]),
    ("arity", "y = matmul(W1)", ValueError, [r"matmul takes 2 arguments; got 1"]),
    ("arity unary", "y = exp(W1, W2)", ValueError, [r"exp takes 1 argument; got 2"]),
    ("ragged", "y = [[1, 2], [3]]", ValueError, [r"a matrix's rows must all have the same length"]),
    ("empty list", "y = []", ValueError, [r"empty lists are not allowed"]),
    ("names in list", "y = [W1, 2]", ValueError, [r"lists may only hold numbers"]),
    ("inf literal", "y = 1e309", ValueError, [r"the number 1e309 is out of float32 range"]),
    ("float32 overflow", "y = 1e39 * W1", ValueError, [r"line 1, col 5: the number 1e39 is out"]),
    ("huge int", "y = " + "9" * 400, ValueError, [r"out of float32 range"]),
    ("syntax", "y = W1 +", ValueError, [r"^line 1, col \d+: syntax error"]),
    ("syntax line 2", "y = W1\nz = W2 +* 3", ValueError, [r"^line 2, col \d+: syntax error"]),
    ("unclosed", "y = (W1 + W2", ValueError, [r"^line 1, col \d+: syntax error"]),
    ("indent", "y = W1\n  z = W2", ValueError, [r"^line 2, col \d+: syntax error"]),
    ("nul", "y = W1\x00", ValueError, [r"NUL character"]),
    (
        "long program",
        "y = W1\n" + "z = W1 + W2 + W3 + W1 + W2 + W3 + W1 + W2 + W3\n" * 120,
        ValueError,
        [r"program is \d+ characters long; the limit is 5000"],
    ),
    (
        "many lines",
        "\n".join(f"y{i} = W1" for i in range(150)),
        ValueError,
        [r"program has 150 lines; the limit is 100"],
    ),
    ("parens 10000", "(" * 10000, ValueError, [r"the limit is 5000"]),
    ("parens 4000", "(" * 4000, ValueError, [r"line 1, col 41: nesting deeper than 40 levels"]),
    (
        "parens 100",
        "y = " + "(" * 100 + "W1" + ")" * 100,
        ValueError,
        [r"line 1, col 45: nesting deeper than 40 levels"],
    ),
    ("brackets 60", "y = " + "[" * 60 + "1" + "]" * 60, ValueError, [r"nesting deeper than 40"]),
    ("unary chain", "y = " + "-" * 2000 + "W1", ValueError, [r"nested (too )?deep"]),
    ("unary chain 60", "y = " + "-" * 60 + "W1", ValueError, [r"nested deeper than 40 levels"]),
    (
        "plus chain",
        "y = " + " + ".join(["W1"] * 600),
        ValueError,
        [r"(syntax nodes; the limit is 500|nested deeper)"],
    ),
    (
        "many nodes",
        "y = [" + ", ".join(["1"] * 1200) + "]",
        ValueError,
        [r"program has \d+ syntax nodes; the limit is 500"],
    ),
    (
        "multi-line nesting",
        "y = " + "(\n" * 45 + "W1" + ")" * 45,
        ValueError,
        [r"line 41, col 1: nesting deeper than 40 levels"],
    ),
    ("empty", "", ValueError, [r"the program is empty; write lines like 'y = W1 \+ W2'"]),
    ("only comments", "# y = W1\n\n", ValueError, [r"the program is empty"]),
    ("code name", "tape = W1", ValueError, [r"'tape' is a reserved Python/TensorFlow name"]),
    ("non-ascii column", "ü = W1.T", ValueError, [r"^line 1, col 5: attribute access"]),
    ("long name", "y" * 70 + " = W1", ValueError, [r"longer than 64 characters"]),
]


@pytest.mark.parametrize("case", PROGRAMS, ids=[c[0] for c in PROGRAMS])
def test_hostile_program_is_refused(case):
    _, program, error, patterns = case
    with pytest.raises(error) as info:
        gradlab.run(program, VALUES, ["y"], ["W1"])
    for pattern in patterns:
        assert re.search(pattern, str(info.value)), (pattern, info.value)


def _run(program="y = W1 + W2", values=None, ys=("y",), xs=("W1",), **kwargs):
    return gradlab.run(program, VALUES if values is None else values, ys, xs, **kwargs)


# (id, call, error type, pattern)
RUNS = [
    (
        "unknown name",
        lambda: _run("y = W1 + W5"),
        ValueError,
        r"no value given for W5 \(line 1\); given values: W1, W2, W3",
    ),
    (
        "assign a variable",
        lambda: _run("W1 = W2 + W3"),
        ValueError,
        r"'W1' is assigned by the program \(line 1\) and also given in values",
    ),
    (
        "y not in graph",
        lambda: _run(ys=["q"]),
        ValueError,
        r"y 'q' is not in the graph; choose from: W1, W2, y",
    ),
    (
        "x not in graph",
        lambda: _run(xs=["W3"]),
        ValueError,
        r"x 'W3' is not in the graph; choose from: W1, W2, y",
    ),
    (
        "x unnamed id",
        lambda: _run("y = W1 + W2 + W1", xs=["#1"]),
        ValueError,
        r"x '#1' is not in the graph",
    ),
    (
        "grad_ys shape",
        lambda: _run(grad_ys=[[1.0, 2.0, 3.0]]),
        ValueError,
        r"grad_ys for 'y' has shape \(3,\) but y has shape \(2,\); give a value of shape \(2,\)",
    ),
    (
        "grad_ys scalar",
        lambda: _run(grad_ys={"y": 1.0}),
        ValueError,
        r"grad_ys for 'y' has shape \(\) but y has shape \(2,\)",
    ),
    (
        "grad_ys count",
        lambda: _run(grad_ys=[[1, 2], [3, 4]]),
        ValueError,
        r"grad_ys has 2 entries but there are 1 ys \(y\)",
    ),
    (
        "grad_ys key",
        lambda: _run(grad_ys={"z": [1, 2]}),
        ValueError,
        r"grad_ys names \['z'\] that are not in ys; ys: y",
    ),
    (
        "grad_ys string",
        lambda: _run(grad_ys="ones"),
        TypeError,
        r"grad_ys must be None, a dict \{y: value\} or a list",
    ),
    ("grad_ys nan", lambda: _run(grad_ys=[[float("nan"), 1.0]]), ValueError, r"finite"),
    (
        "unconnected",
        lambda: _run(unconnected="always"),
        ValueError,
        r"unknown unconnected 'always'; choose one of: none, zero",
    ),
    (
        "value string",
        lambda: _run(values={"W1": "1", "W2": [1, 2]}),
        TypeError,
        r"value of 'W1' must be a number or a \(nested\) list",
    ),
    (
        "value ragged",
        lambda: _run(values={"W1": [[1], [2, 3]], "W2": 1}),
        ValueError,
        r"rectangular",
    ),
    (
        "value inf",
        lambda: _run(values={"W1": [float("inf"), 1], "W2": 1}),
        ValueError,
        r"value of 'W1' must be finite",
    ),
    (
        "value huge",
        lambda: _run(values={"W1": [0.0] * 10001, "W2": 1}),
        ValueError,
        r"value of 'W1' has 10001 numbers; the limit is 10000",
    ),
    ("value empty", lambda: _run(values={"W1": [], "W2": 1}), ValueError, r"is empty"),
    ("values not a dict", lambda: _run(values=[1, 2]), TypeError, r"values must be a dict"),
    ("program not str", lambda: _run(program=b"y = W1"), TypeError, r"program must be a str"),
    ("ys empty", lambda: _run(ys=[]), TypeError, r"ys must be a name or a non-empty list"),
    ("xs duplicate", lambda: _run(xs=["W1", "W1"]), ValueError, r"xs lists W1 more than once"),
    (
        "shape mismatch",
        lambda: _run("y = W1 + W2", values={"W1": [1, 2], "W2": [1, 2, 3]}),
        ValueError,
        r"line 1, col 5: '\+' \(add\) failed on shapes \(2,\), \(3,\)",
    ),
    (
        "matmul of vectors",
        lambda: _run("a = W1 * 2\ny = a @ W2"),
        ValueError,
        r"line 2, col 5: '@' \(matmul\) failed on shapes \(2,\), \(2,\)",
    ),
    (
        "matmul shapes",
        lambda: _run("y = matmul(W1, W2)", values={"W1": [[1, 2]], "W2": [[1, 2]]}),
        ValueError,
        r"line 1, col 5: matmul failed on shapes \(1, 2\), \(1, 2\): Matrix size-incompatible",
    ),
    (
        "bad axis",
        lambda: _run("y = reduce_sum(W1, axis=3)"),
        ValueError,
        r"line 1, col 5: reduce_sum failed on shapes \(2,\)",
    ),
]


@pytest.mark.parametrize("case", RUNS, ids=[c[0] for c in RUNS])
def test_bad_run_arguments_are_refused(case):
    _, call, error, pattern = case
    with pytest.raises(error, match=pattern):
        call()


def test_the_matrix_is_big_enough():
    assert len(PROGRAMS) + len(RUNS) >= 100


def test_nothing_was_executed(tmp_path, monkeypatch):
    """A program that would write a file if it were evaluated leaves no trace."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError):
        gradlab.run("y = open('pwned', 'w')", VALUES, ["y"], ["W1"])
    with pytest.raises(ValueError):
        gradlab.run("import os\ny = os.system('touch pwned2')", VALUES, ["y"], ["W1"])
    assert list(tmp_path.iterdir()) == []
