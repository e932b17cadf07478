"""The project's module rules: no module over 450 lines, no import cycle (even at type level).

Read from the source with `ast` (nothing is imported): an import under `if TYPE_CHECKING:` or
inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "deconv_widgets"
MAX_LINES = 450

# Over the limit today and being split in issue 23 (by other changes): drop an entry once its
# module is under MAX_LINES.
KNOWN_OVER: set[str] = set()  # none left

ENGINE = "deconv_widgets.projection.engine"
# The modules that may import the engine: the package's __init__ (it exports the Projector)
# and the engine itself. The Projector's bases (`passes`, `plans`) sit below it, and the
# helpers name what they need of a Projector with `projection.protocols`.
MAY_IMPORT_ENGINE = {"__init__.py", "engine.py"}
KNOWN_ENGINE_IMPORTS: set[str] = set()  # none left


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "static" not in p.relative_to(ROOT).parts)


def _name(path: Path) -> str:
    """The dotted module name of a file under the package (a package: its __init__'s name)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module `path` imports anywhere in it, relative imports resolved.

    `from a import b` yields both `a` and `a.b` (b may be a submodule).
    """
    package = _name(path) if path.name == "__init__.py" else _name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_imports_reads_relative_and_type_checking_imports() -> None:
    found = imports(PACKAGE / "projection" / "engine.py")
    assert "deconv_widgets.projection.passes" in found  # from .passes import ...
    assert "deconv_widgets._tf" in found  # absolute
    html = imports(PACKAGE / "scan" / "html.py")
    assert "deconv_widgets.projection.topk.Hit" in html  # from ..projection.topk, TYPE_CHECKING


def test_no_module_over_the_line_limit() -> None:
    over = {}
    for path in _modules():
        relative = path.relative_to(ROOT).as_posix()
        count = len(path.read_text(encoding="utf-8").splitlines())
        if count > MAX_LINES and relative not in KNOWN_OVER:
            over[relative] = count
    assert not over, f"modules over {MAX_LINES} lines (split them): {over}"


@pytest.mark.parametrize(
    "path",
    sorted((PACKAGE / "projection").glob("*.py")),
    ids=lambda path: path.name,
)
def test_projection_helpers_do_not_import_the_engine(path: Path) -> None:
    if path.name in MAY_IMPORT_ENGINE or path.name in KNOWN_ENGINE_IMPORTS:
        return
    assert ENGINE not in imports(path), (
        f"projection/{path.name} imports the engine (an import cycle: the engine imports the "
        "helpers); annotate with a Protocol of projection.protocols instead"
    )


def test_the_site_pages_do_not_import_the_atlas() -> None:
    found = imports(PACKAGE / "scan" / "html.py")
    assert "deconv_widgets.scan.atlas" not in found
    assert not any(name.startswith("deconv_widgets.scan.atlas.") for name in found)
