"""The contract between Python and the page: synced traits and custom messages on both sides.

Python's side is the widget classes' synced traits and deconv_widgets/widgets/messages.py; the
page's side is the JSDoc typedefs of js/src/lib/traits.js and js/src/lib/messages.js, read by
js/scripts/contract.mjs with the TypeScript compiler (intersections resolved). A rename on
either side fails here, naming the trait or field and the side it is missing from. Quick: no
model is built (class-level traits only).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import os
import pkgutil
import re
import shutil
import subprocess
import typing
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
JS = ROOT / "js"
TRAITS_JS = "src/lib/traits.js"
MESSAGES_JS = "src/lib/messages.js"
IN_CI = os.environ.get("CI", "").lower() == "true"

# Widget class -> (its JS module in js/src/, its traits typedef in js/src/lib/traits.js).
WIDGETS = {
    "Explorer": ("explorer", "ExplorerTraits"),
    "ChannelPicker": ("channel_picker", "ProjectionTraits"),
    "DeconvView": ("deconv_view", "ProjectionTraits"),
    "ModelInspector": ("model_inspector", "InspectorTraits"),
    "TransposeConvView": ("transpose_conv_view", "TransposeConvTraits"),
    "UnpoolView": ("unpool_view", "UnpoolTraits"),
    "GradientsPanel": ("gradients_panel", "GradientsTraits"),
}

# The page messages' handlers: their type comparisons are read from the source.
HANDLERS = (
    ("parts.images", "ImagesPart", "message"),
    ("unpool_view", "UnpoolView", "_on_message"),
    ("gradients_panel", "GradientsPanel", "_on_message"),
)
HANDLED = re.compile(r"""(?:(?<![.\w])kind|content\.get\(["']type["']\))\s*[!=]=\s*["'](\w+)["']""")
TRAITS_IMPORT = re.compile(
    r"""@typedef\s*\{import\(["']\./lib/traits\.js["']\)\.(\w+)\}\s*Traits\b"""
)


@functools.cache
def js_types() -> dict[str, Any]:
    """The typedefs of traits.js and messages.js as contract.mjs prints them."""
    node = shutil.which("node")
    ready = node and (JS / "node_modules" / "typescript" / "package.json").is_file()
    if not ready:
        why = "node is not on PATH" if not node else "js/node_modules is missing (`npm ci` in js/)"
        if IN_CI:
            pytest.fail(f"{why}: the contract test needs it in CI")
        pytest.skip(f"{why}: the JS side of the contract cannot be read")
    done = subprocess.run(
        [str(node), "scripts/contract.mjs", TRAITS_JS, MESSAGES_JS],
        cwd=JS,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"js/scripts/contract.mjs failed:\n{done.stderr[-4000:]}"
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def js_typedef(file: str, name: str) -> dict[str, Any]:
    typedefs = js_types()["files"][file]
    assert name in typedefs, f"js/{file} has no typedef {name}"
    entry: dict[str, Any] = typedefs[name]
    return entry


def widget_classes() -> dict[str, type]:
    """Every widget class of deconv_widgets.widgets that has its own JS module (`_esm`)."""
    import anywidget

    import deconv_widgets.widgets as package

    found: dict[str, type] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, anywidget.AnyWidget) and "_esm" in vars(cls):
                found[cls.__name__] = cls
    return found


def base_traits() -> set[str]:
    """The synced traits anywidget and ipywidgets add to every widget (not the contract's)."""
    import anywidget

    return set(anywidget.AnyWidget().trait_names(sync=True)) | {"_esm", "_css"}


def test_the_js_contract_files_type_check() -> None:
    """traits.js and messages.js have no type errors (a broken typedef would read as empty)."""
    assert js_types()["diagnostics"] == []


def test_every_widget_with_a_js_module_is_mapped() -> None:
    found = widget_classes()
    modules = {path.stem for path in (JS / "src").glob("*.js")}
    assert set(found) == set(WIDGETS), (
        f"widget classes with an _esm: {sorted(found)}; WIDGETS in this test maps {sorted(WIDGETS)}"
    )
    mapped = {module for module, _ in WIDGETS.values()}
    assert modules == mapped, (
        f"JS modules in js/src: {sorted(modules)}; WIDGETS maps {sorted(mapped)}"
    )
    for name, (module, _) in WIDGETS.items():
        source = inspect.getsource(found[name])
        esm = re.search(r"""_esm\s*=\s*esm\(["'](\w+)["']\)""", source)
        assert esm and esm.group(1) == module, f"{name}._esm is not esm({module!r})"


@pytest.mark.parametrize("name", sorted(WIDGETS))
def test_js_module_imports_its_traits_typedef(name: str) -> None:
    module, typedef = WIDGETS[name]
    source = (JS / "src" / f"{module}.js").read_text(encoding="utf-8")
    imported = TRAITS_IMPORT.findall(source)
    expected = f'/** @typedef {{import("./lib/traits.js").{typedef}}} Traits */'
    assert imported == [typedef], f"js/src/{module}.js ({name}) must declare `{expected}`"


@pytest.mark.parametrize("name", sorted(WIDGETS))
def test_synced_traits_match_traits_js(name: str) -> None:
    typedef = WIDGETS[name][1]
    cls = widget_classes()[name]
    python = set(cls.class_trait_names(sync=True)) - base_traits()
    js = set(js_typedef(TRAITS_JS, typedef)["properties"])
    problems = [
        f"trait {t!r} is synced by Python ({name}.{t}) but missing from {typedef} in js/{TRAITS_JS}"
        for t in sorted(python - js)
    ] + [
        f"trait {t!r} of {typedef} in js/{TRAITS_JS} is missing from Python ({name} has no synced "
        f"trait {t!r})"
        for t in sorted(js - python)
    ]
    assert not problems, "\n".join(problems)


def python_fields(cls: type) -> dict[str, bool]:
    """A message TypedDict's keys -> optional (NotRequired)."""
    keys: dict[str, bool] = {key: False for key in cls.__required_keys__}  # type: ignore[attr-defined]
    keys.update({key: True for key in cls.__optional_keys__})  # type: ignore[attr-defined]
    return keys


def test_python_message_tables_are_consistent() -> None:
    """Each TypedDict's Literal type is its key, and PageMessage / PythonMessage list them all."""
    from deconv_widgets.widgets import messages

    for table in (messages.PAGE_MESSAGES, messages.PYTHON_MESSAGES):
        for kind, cls in table.items():
            literal = typing.get_args(typing.get_type_hints(cls)["type"])
            assert literal == (kind,), f"{cls.__name__}'s type is {literal}, its key {kind!r}"
    union = set(typing.get_args(messages.PageMessage)) or {messages.PageMessage}
    assert union == set(messages.PAGE_MESSAGES.values()), "PageMessage != PAGE_MESSAGES"
    union = set(typing.get_args(messages.PythonMessage)) or {messages.PythonMessage}
    assert union == set(messages.PYTHON_MESSAGES.values()), "PythonMessage != PYTHON_MESSAGES"


def test_page_messages_are_the_handled_ones() -> None:
    """PAGE_MESSAGES are the types the handlers compare with (and their *_MESSAGES tuples)."""
    from deconv_widgets.widgets import Explorer, messages

    handled = set(Explorer()._handlers)  # the Explorer's table: a handler per message type
    for module, cls, method in HANDLERS:
        owner = getattr(importlib.import_module(f"deconv_widgets.widgets.{module}"), cls)
        handled |= set(HANDLED.findall(inspect.getsource(getattr(owner, method))))
    declared = set(messages.PAGE_MESSAGES)
    problems = [
        f"page message {t!r} is handled in Python but missing from PAGE_MESSAGES (messages.py)"
        for t in sorted(handled - declared)
    ] + [
        f"page message {t!r} of PAGE_MESSAGES (messages.py) has no Python handler"
        for t in sorted(declared - handled)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("direction", ["PageMessage", "PythonMessage"])
def test_messages_match_messages_js(direction: str) -> None:
    from deconv_widgets.widgets import messages

    table = messages.PAGE_MESSAGES if direction == "PageMessage" else messages.PYTHON_MESSAGES
    union = js_typedef(MESSAGES_JS, direction)
    js_names = set(union.get("union") or [union.get("alias_of")])
    py_names = {cls.__name__ for cls in table.values()}
    problems = [
        f"message {n} ({direction}) of messages.py is missing from {direction} in js/{MESSAGES_JS}"
        for n in sorted(py_names - js_names)
    ] + [
        f"message {n} of {direction} in js/{MESSAGES_JS} is missing from messages.py"
        for n in sorted(js_names - py_names)
    ]
    typedefs = js_types()["files"][MESSAGES_JS]
    for kind, cls in table.items():
        name = cls.__name__
        if name not in typedefs:
            problems.append(f"message {name} ({kind!r}) is missing from js/{MESSAGES_JS}")
            continue
        js = {k: v["optional"] for k, v in typedefs[name]["properties"].items()}
        python = python_fields(cls)
        literal = typedefs[name]["properties"].get("type", {}).get("literal")
        if literal != kind:
            problems.append(f"{name}'s type is {literal!r} in js/{MESSAGES_JS}, {kind!r} in Python")
        problems += [
            f"field {f!r} of {name} is in messages.py but missing from js/{MESSAGES_JS}"
            for f in sorted(set(python) - set(js))
        ] + [
            f"field {f!r} of {name} is in js/{MESSAGES_JS} but missing from messages.py"
            for f in sorted(set(js) - set(python))
        ]
        problems += [
            f"field {f!r} of {name} is {'optional' if python[f] else 'required'} in messages.py "
            f"but {'optional' if js[f] else 'required'} in js/{MESSAGES_JS}"
            for f in sorted(set(python) & set(js))
            if python[f] != js[f]
        ]
    assert not problems, "\n".join(problems)


def test_no_stray_message_typedefs_in_messages_js() -> None:
    """Every typedef of messages.js with a literal type is a message of messages.py."""
    from deconv_widgets.widgets import messages

    declared = {
        cls.__name__ for cls in {**messages.PAGE_MESSAGES, **messages.PYTHON_MESSAGES}.values()
    }
    typedefs = js_types()["files"][MESSAGES_JS]
    stray = [
        name
        for name, entry in typedefs.items()
        if "literal" in entry["properties"].get("type", {})
        and "alias_of" not in entry
        and name not in declared
    ]
    assert not stray, f"typedefs of js/{MESSAGES_JS} missing from messages.py: {stray}"


def test_each_python_part_has_a_js_module_named_alike() -> None:
    """widgets/parts/<name>.py <-> js/src/parts/<name>.js (host.py is the parts' interface)."""
    package = Path(__file__).resolve().parents[1]
    python = {p.stem for p in (package / "deconv_widgets/widgets/parts").glob("*.py")}
    js = {p.stem for p in (package / "js/src/parts").glob("*.js")}
    python -= {"__init__", "host"}
    assert python == js, f"Python parts without a JS module: {sorted(python - js)}; " + (
        f"JS parts without a Python part: {sorted(js - python)}"
    )
