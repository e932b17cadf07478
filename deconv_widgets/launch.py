"""Open JupyterLab on the tour: find the shipped notebooks, copy them somewhere writable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

NOTEBOOKS = ("tour.ipynb", "lab_deconvnet.en.ipynb", "lab_deconvnet.zh.ipynb")


def shipped_notebooks() -> Path:
    """The folder holding the notebooks: inside the wheel, or `notebooks/` of a checkout."""
    packaged = Path(__file__).resolve().parent / "notebooks"
    if (packaged / "tour.ipynb").is_file():
        return packaged
    checkout = Path(__file__).resolve().parents[1] / "notebooks"
    if (checkout / "tour.ipynb").is_file():
        return checkout
    raise FileNotFoundError(
        "the tour notebook is missing from this installation; reinstall deconv-widgets "
        f"(looked in {packaged} and {checkout})"
    )


def _writable(folder: Path) -> bool:
    """True when files can be created in `folder`."""
    return folder.is_dir() and os.access(folder, os.W_OK)


def prepare_workdir(target: Path | None = None) -> Path:
    """Return a writable folder holding the notebooks, copying them there when needed.

    A checkout's own `notebooks/` is used in place when it is writable. Otherwise (an installed,
    possibly read-only package) the notebooks are copied to `target` (default
    `~/deconv-widgets-notebooks`); a notebook already there is never overwritten, so a student's
    work survives a second launch.
    """
    source = shipped_notebooks()
    if target is None and _writable(source) and source.parent.joinpath("pyproject.toml").is_file():
        return source
    target = Path(target or Path.home() / "deconv-widgets-notebooks").expanduser()
    target.mkdir(parents=True, exist_ok=True)
    for name in NOTEBOOKS:
        src, dst = source / name, target / name
        if src.is_file() and not dst.exists():
            shutil.copy2(src, dst)
    return target


def lab_command(workdir: Path, extra: list[str]) -> list[str]:
    """The `jupyter lab` command line that opens the tour in `workdir`."""
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra
    return [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--ServerApp.root_dir={workdir}",
        *(["--allow-root"] if as_root else []),  # containers often run as root
        *extra,
        str(workdir / "tour.ipynb"),
    ]


def open_lab(workdir: Path | None = None, extra: list[str] | None = None) -> int:
    """Run JupyterLab on the tour until it is stopped; returns its exit code."""
    folder = prepare_workdir(workdir)
    print(f"deconv-widgets: notebooks in {folder}", flush=True)
    return subprocess.call(lab_command(folder, list(extra or [])))
