"""The widgets' log in a notebook: tracebacks behind the one-line status, for developers."""

from __future__ import annotations

import logging

import ipywidgets

from ._base import LOG


class _ToOutput(logging.Handler):
    """A logging handler that appends each record (traceback included) to an Output widget."""

    def __init__(self, output: ipywidgets.Output, level: int) -> None:
        super().__init__(level)
        self.output = output
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        """Append the formatted record to the Output as stderr text."""
        self.output.append_stderr(self.format(record) + "\n")


def log_output(level: int = logging.DEBUG) -> ipywidgets.Output:
    """An Output widget that shows the "deconv_widgets" log from now on; display it in a cell.

    Users see one status line per error; this shows the traceback behind each (bad inputs at
    DEBUG, bugs at ERROR), wherever the widget's callback ran.

    Args:
        level: the lowest level shown; logging.ERROR shows bugs only.

    Returns:
        The Output widget. Closing it (`output.close()`) detaches it from the log.
    """
    output = ipywidgets.Output()
    handler = _ToOutput(output, level)
    LOG.addHandler(handler)
    if LOG.getEffectiveLevel() > level:
        LOG.setLevel(level)
    output.observe(lambda _change: LOG.removeHandler(handler), names="comm")
    return output
