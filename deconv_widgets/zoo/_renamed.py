"""Old argument names the zoo still accepts: `seed=` of its image makers is now `random_seed=`.

In this package "seed" is the projection seed (the signal placed on the chosen channel:
"activation", "max" or "ones"); a random generator's seed is `random_seed`.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def accepts_old_seed(function: Callable[P, R]) -> Callable[P, R]:
    """`function(..., seed=s)` runs as `function(..., random_seed=s)`, with a DeprecationWarning.

    `seed` is keyword-only; passing it with `random_seed` (by keyword or by position) is a
    TypeError.
    """
    position = list(inspect.signature(function).parameters).index("random_seed")
    name = function.__qualname__.removesuffix(".__init__")

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if "seed" in kwargs:
            if "random_seed" in kwargs or len(args) > position:
                raise TypeError(
                    f"{name}() got both random_seed and seed (its old name); pass random_seed only"
                )
            warnings.warn(
                f"{name}(seed=...) is deprecated: use random_seed=... (in deconv_widgets a "
                '"seed" is the projection seed)',
                DeprecationWarning,
                stacklevel=2,
            )
            kwargs["random_seed"] = kwargs.pop("seed")
        return function(*args, **kwargs)

    return wrapper
