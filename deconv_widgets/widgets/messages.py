"""The custom messages between Python and the page, as TypedDicts (types only; nothing runs).

Page -> Python: `model.send(...)` in js/src; answered by the widgets' `_on_message` handlers
(Explorer's also by `_own_message`, and by `show_<type>()` for LENS_MESSAGES and
CLASSIFIER_MESSAGES). Python -> page: `widget.send(...)`. Each message is a dict whose "type"
names it; a key is NotRequired where the page may leave it out (the handler has a default).
Binary payloads travel as the message's buffers (said in the docstring). js/src/lib/messages.js
declares the same messages for the page; tests/test_contract.py checks that both agree.
"""

# No `from __future__ import annotations` here: on Python 3.11 string annotations hide
# NotRequired from TypedDict, and every key would count as required (__required_keys__).
from typing import Literal, NotRequired, TypedDict

# Page -> Python: the Explorer


class ViewMessage(TypedDict):
    """A page shows the Explorer: Python may prefetch for it."""

    type: Literal["view"]


class LadderMessage(TypedDict):
    """The "show the ladder" button: the current channel's ladder into `ladder`."""

    type: Literal["ladder"]


class TopKMessage(TypedDict):
    """The top-k button: the current channel's k strongest hits (default TOPK_DEFAULT)."""

    type: Literal["topk"]
    k: NotRequired[int]


class VisualizeMessage(TypedDict):
    """The "what it wants" button: the current channel's feature visualisation, as a job."""

    type: Literal["visualize"]


class StopMessage(TypedDict):
    """Stop a queued or running job (an id of the Explorer's `jobs`)."""

    type: Literal["stop"]
    job: int


class LensesMessage(TypedDict):
    """The Grad-CAM button: `show_lenses()` (LENS_MESSAGES)."""

    type: Literal["lenses"]


class OcclusionMessage(TypedDict):
    """The occlusion map button: `show_occlusion()` (LENS_MESSAGES)."""

    type: Literal["occlusion"]


class SanityMessage(TypedDict):
    """The sanity check button: `show_sanity()` (LENS_MESSAGES)."""

    type: Literal["sanity"]


class FaithfulnessMessage(TypedDict):
    """The faithfulness button: `show_faithfulness()` (CLASSIFIER_MESSAGES)."""

    type: Literal["faithfulness"]


class UploadMessage(TypedDict):
    """One file from the picker or a drop; its bytes are the one buffer (OWN_MESSAGES)."""

    type: Literal["upload"]
    name: NotRequired[str]
    size: NotRequired[int]


class FrameMessage(TypedDict):
    """One camera frame at the images' size; RGB uint8 bytes of `shape` as the one buffer."""

    type: Literal["frame"]
    shape: list[int]


class FreezeMessage(TypedDict):
    """Keep the last camera frame as an image (OWN_MESSAGES)."""

    type: Literal["freeze"]


class CameraMessage(TypedDict):
    """The page's camera turned on or off, or failed (`message` says why) (OWN_MESSAGES)."""

    type: Literal["camera"]
    state: Literal["on", "off", "error"]
    message: NotRequired[str]


class RefusedMessage(TypedDict):
    """A file the page refused (too big, unreadable); `message` goes to the status line."""

    type: Literal["refused"]
    message: NotRequired[str]


# Page -> Python: the op explainers


class RandomMessage(TypedDict):
    """UnpoolView's "random map" button: a new map with the next random seed."""

    type: Literal["random"]


class RunMessage(TypedDict):
    """GradientsPanel's Run button: its fields as typed (each str one replaces its trait)."""

    type: Literal["run"]
    program: NotRequired[str]
    values_text: NotRequired[str]
    ys_text: NotRequired[str]
    xs_text: NotRequired[str]
    grad_ys_text: NotRequired[str]
    unconnected: NotRequired[str]


# Python -> page


class PrefetchedMessage(TypedDict):
    """One prefetched projection for the page's cache; (H, W, C) float32 `shape` as the buffer."""

    type: Literal["prefetched"]
    layer: str
    seed: str
    image: int
    method: str
    channel: int
    shape: list[int]


PageMessage = (
    ViewMessage
    | LadderMessage
    | TopKMessage
    | VisualizeMessage
    | StopMessage
    | LensesMessage
    | OcclusionMessage
    | SanityMessage
    | FaithfulnessMessage
    | UploadMessage
    | FrameMessage
    | FreezeMessage
    | CameraMessage
    | RefusedMessage
    | RandomMessage
    | RunMessage
)
"""Any message the page sends."""

PythonMessage = PrefetchedMessage
"""Any message Python sends."""

PAGE_MESSAGES: dict[str, type] = {
    "view": ViewMessage,
    "ladder": LadderMessage,
    "topk": TopKMessage,
    "visualize": VisualizeMessage,
    "stop": StopMessage,
    "lenses": LensesMessage,
    "occlusion": OcclusionMessage,
    "sanity": SanityMessage,
    "faithfulness": FaithfulnessMessage,
    "upload": UploadMessage,
    "frame": FrameMessage,
    "freeze": FreezeMessage,
    "camera": CameraMessage,
    "refused": RefusedMessage,
    "random": RandomMessage,
    "run": RunMessage,
}
"""Page -> Python messages by their "type"."""

PYTHON_MESSAGES: dict[str, type] = {"prefetched": PrefetchedMessage}
"""Python -> page messages by their "type"."""

__all__ = [
    "PAGE_MESSAGES",
    "PYTHON_MESSAGES",
    "CameraMessage",
    "FaithfulnessMessage",
    "FrameMessage",
    "FreezeMessage",
    "LadderMessage",
    "LensesMessage",
    "OcclusionMessage",
    "PageMessage",
    "PrefetchedMessage",
    "PythonMessage",
    "RandomMessage",
    "RefusedMessage",
    "RunMessage",
    "SanityMessage",
    "StopMessage",
    "TopKMessage",
    "UploadMessage",
    "ViewMessage",
]
