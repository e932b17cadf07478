"""The release check: what a user of the wheel gets, from a fresh clone to an executed tour."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pytest
from helpers import executed_outputs
from PIL import Image, ImageStat

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = "vgg16,classifier"
"""The extras the release check installs and runs the tour with (and Binder installs)."""

NODE_NAMES = ("node", "nodejs", "npm", "npx", "corepack")


def checkout_copy(dest: Path) -> None:
    """Copy the files git would check out (tracked plus new, not ignored): a fresh clone."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        rel = raw.decode()
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def source_version() -> str:
    """`__version__` as written in deconv_widgets/__init__.py (read, not imported)."""
    text = (ROOT / "deconv_widgets" / "__init__.py").read_text(encoding="utf-8")
    found = re.findall(r'^__version__ = "([^"]+)"', text, flags=re.MULTILINE)
    assert len(found) == 1, "one plain string literal __version__"
    return found[0]


def test_the_version_lives_in_one_place():
    """`__version__` is the version; pyproject reads it, the private JS bundle has none."""
    version = source_version()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["hatch"]["version"]["path"] == "deconv_widgets/__init__.py"
    package = json.loads((ROOT / "js" / "package.json").read_text(encoding="utf-8"))
    assert package["private"] is True and "version" not in package
    lock = json.loads((ROOT / "js" / "package-lock.json").read_text(encoding="utf-8"))
    assert "version" not in lock and "version" not in lock["packages"][""]
    # the changelog's newest release is this version
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = re.findall(r"^## \[(\d[^\]]*)\]", changelog, flags=re.MULTILINE)
    assert releases and releases[0] == version, (releases[:1], version)


def _without_node(tmp: Path) -> str:
    """A PATH holding everything /usr/bin and /bin hold but Node.js and npm."""
    bin_dir = tmp / "bin-without-node"
    bin_dir.mkdir()
    for system_dir in (Path("/usr/bin"), Path("/bin")):
        for tool in system_dir.iterdir():
            target = bin_dir / tool.name
            if tool.name not in NODE_NAMES and not target.exists():
                target.symlink_to(tool)
    return str(bin_dir)


def _run(args: list[str | Path], timings: dict[str, float], phase: str, **kwargs) -> str:
    """Run `args`, add its wall time to `phase`, assert it ends well; return its stdout."""
    start = time.perf_counter()
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, check=False, **kwargs
    )
    timings[phase] = timings.get(phase, 0.0) + time.perf_counter() - start
    assert done.returncode == 0, f"{args}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


TOUR = """
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

import deconv_widgets

source, out, cwd = sys.argv[1:4]
nb = nbformat.read(source, as_version=4)
assert Path(source).is_relative_to(Path(deconv_widgets.__file__).parent), source
# one more cell: which interpreter the kernel is
nb.cells.append(nbformat.v4.new_code_cell("import sys; print('kernel:', sys.executable)"))
resources = {"metadata": {"path": cwd}}
NotebookClient(nb, timeout=600, kernel_name="python3", resources=resources).execute()
nbformat.write(nb, out)
"""
"""Executes the installed tour with nbclient, run by the fresh venv's own interpreter."""


def _check_tour(executed: Path, venv: Path) -> None:
    """The tour's outputs: no error, the real networks' lines and figures, a widget."""
    nb = nbformat.read(executed, as_version=4)
    kernel_lines = "".join(out.get("text", "") for out in nb.cells.pop().outputs).split()
    assert kernel_lines[0] == "kernel:" and kernel_lines[1].startswith(str(venv)), kernel_lines
    text, data = executed_outputs(nb)
    assert "18 layers, last: block5_pool | photos: chelsea, astronaut" in text
    assert len([d for d in data if "image/png" in d]) >= 4, "the real-network figures"
    assert any("application/vnd.jupyter.widget-view+json" in d for d in data), "a widget"


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_release_wheel_installs_without_node_and_runs_the_tour(tmp_path):
    """Slow: builds the sdist and wheel, installs TensorFlow into a fresh venv, executes the tour.

    From a fresh clone's files (plus the front end this checkout built, as a release has it):
    `python -m build` makes the sdist and the wheel from the sdist, with no Node.js on PATH, so
    the sdist must carry the built front end; `twine check --strict` passes; a fresh venv outside
    the checkout installs the wheel with its `vgg16` and `classifier` extras, imports the
    installed package, renders a projection and executes the installed tour in its own kernel.
    The tour executes here and nowhere else in the test run.
    """
    timings: dict[str, float] = {}
    repo = tmp_path / "repo"
    checkout_copy(repo)
    bundle = sorted((ROOT / "deconv_widgets" / "static").glob("*.js"))
    assert any(b.name == "explorer.js" for b in bundle), "build the front end first (./run tests)"
    sources = [*(ROOT / "js" / "src").rglob("*.js"), ROOT / "js" / "build.mjs"]
    stale = [s for s in sources if s.stat().st_mtime > min(b.stat().st_mtime for b in bundle)]
    assert not stale, f"the built front end is older than {stale[:3]}: cd js && npm run build"
    (repo / "deconv_widgets" / "static").mkdir()
    for built in bundle:
        shutil.copy2(built, repo / "deconv_widgets" / "static" / built.name)
    system_path = _without_node(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(
        PATH=system_path,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter" / "data"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter" / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter" / "runtime"),
        IPYTHONDIR=str(tmp_path / "ipython"),
        MPLCONFIGDIR=str(tmp_path / "matplotlib"),
    )
    assert shutil.which("node", path=system_path) is None
    assert shutil.which("npm", path=system_path) is None

    # 1. the sdist, then the wheel from the sdist (which proves the sdist is complete)
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--outdir", dist, repo], timings, "build", env=env)
    version = source_version()
    sdist = dist / f"deconv_widgets-{version}.tar.gz"
    wheel = dist / f"deconv_widgets-{version}-py3-none-any.whl"
    assert sorted(p.name for p in dist.iterdir()) == sorted([sdist.name, wheel.name])
    with tarfile.open(sdist) as archive:
        packed = set(archive.getnames())
    root = f"deconv_widgets-{version}"
    assert {f"{root}/deconv_widgets/static/explorer.js", f"{root}/notebooks/tour.ipynb"} <= packed
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert archive.getinfo("deconv_widgets/static/explorer.js").file_size > 1000
    assert {"deconv_widgets/notebooks/tour.ipynb", "deconv_widgets/zoo/__init__.py"} <= names

    # 2. the metadata a package index shows
    _run([sys.executable, "-m", "twine", "check", "--strict", sdist, wheel], timings, "twine")

    # 3. a fresh venv outside the checkout, no Node: the wheel with the extras, nbclient, ipykernel
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], timings, "venv install", env=env)
    py = venv / "bin" / "python"
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{system_path}"
    env["VIRTUAL_ENV"] = str(venv)
    assert shutil.which("node", path=env["PATH"]) is None
    work = tmp_path / "work"
    work.mkdir()
    install = [py, "-m", "pip", "install", "-q", f"{wheel}[{EXTRAS}]", "nbclient", "ipykernel"]
    _run(install, timings, "venv install", env=env, cwd=work)

    # 4. the installed package, its command line and its tour
    where = _run(
        [
            py,
            "-c",
            "import deconv_widgets as dw, importlib.metadata as m, pathlib\n"
            "print(pathlib.Path(dw.__file__).parent, dw.__version__, m.version('deconv-widgets'))",
        ],
        timings,
        "render",
        env=env,
        cwd=work,
    ).split()
    installed = Path(where[0])
    assert installed.is_relative_to(venv), installed
    assert where[1:] == [version, version]
    assert (installed / "static" / "explorer.js").stat().st_size > 1000
    png = work / "render.png"
    render = [venv / "bin" / "deconv-widgets", "render", "--layer", "conv3_2", "--channel", "3"]
    _run([*render, "--out", png], timings, "render", env=env, cwd=work)
    with Image.open(png) as image:
        assert image.format == "PNG" and image.width > 600 and image.height > 200
        assert max(ImageStat.Stat(image.convert("RGB")).stddev) > 10  # not a blank canvas

    tour = installed / "notebooks" / "tour.ipynb"
    executed = tmp_path / "tour.executed.ipynb"
    _run([py, "-c", TOUR, tour, executed, work], timings, "tour", env=env, cwd=work)
    _check_tour(executed, venv)

    phases = ", ".join(f"{phase} {seconds:.0f} s" for phase, seconds in timings.items())
    print(f"release check: {phases} (total {sum(timings.values()):.0f} s)")
