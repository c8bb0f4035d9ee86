"""Search spaces: ConfigSpace objects, or a concise dict form for users who don't know ConfigSpace.

Dict form, one entry per hyperparameter::

    {"lr": ("float", 1e-4, 1e-1, "log"), "depth": ("int", 1, 10), "kind": ["a", "b"],
     "C": 1.0}                                  # a constant

Conditions and forbidden clauses need ConfigSpace itself.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
from ConfigSpace import (
    Categorical,
    Configuration,
    ConfigurationSpace,
    Constant,
    Float,
    Integer,
)

SpaceLike = ConfigurationSpace | Mapping[str, Any]


def as_configspace(space: SpaceLike, seed: int | None = None) -> ConfigurationSpace:
    """Return a ConfigurationSpace for ``space`` (returned as is when it already is one)."""
    if isinstance(space, ConfigurationSpace):
        return space
    if not isinstance(space, Mapping) or not space:
        raise TypeError(
            f"space must be a ConfigSpace.ConfigurationSpace or a non-empty dict, got {type(space).__name__}"
        )
    cs = ConfigurationSpace(seed=seed)
    cs.add([_hyperparameter(name, spec) for name, spec in space.items()])
    return cs


def _hyperparameter(name: str, spec: Any):
    if isinstance(spec, list):
        if not spec:
            raise ValueError(f"space entry {name!r}: a categorical needs at least one choice")
        return Categorical(name, spec)
    if isinstance(spec, tuple) and spec and spec[0] in ("float", "int"):
        kind, *rest = spec
        log = len(rest) == 3 and rest[2] == "log"
        if len(rest) not in (2, 3) or (len(rest) == 3 and not log):
            raise ValueError(
                f"space entry {name!r}: expected ({kind!r}, low, high) or ({kind!r}, low, high, 'log'), got {spec!r}"
            )
        low, high = rest[0], rest[1]
        if not low < high:
            raise ValueError(f"space entry {name!r}: low {low!r} must be below high {high!r}")
        if log and low <= 0:
            raise ValueError(f"space entry {name!r}: a log scale needs low > 0, got {low!r}")
        cls = Float if kind == "float" else Integer
        return cls(name, (low, high), log=log)
    if isinstance(spec, (str, int, float, bool)):
        return Constant(name, spec)
    raise ValueError(
        f"space entry {name!r}: expected a list of choices, ('float'|'int', low, high[, 'log']) or a constant,"
        f" got {spec!r}"
    )


def plain(value: Any) -> Any:
    """NumPy scalars to Python ones, so configurations are JSON-able and compare equal."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def to_dict(config: Configuration | Mapping[str, Any]) -> dict[str, Any]:
    """A configuration as a plain dict of its active hyperparameters."""
    return {k: plain(v) for k, v in dict(config).items()}


def to_configuration(space: ConfigurationSpace, config: Mapping[str, Any]) -> Configuration:
    """Validate ``config`` against ``space`` (raises ValueError naming the bad hyperparameter)."""
    try:
        return Configuration(space, values=dict(config))
    except Exception as exc:  # ConfigSpace raises several types; one clear error for callers
        raise ValueError(f"configuration {dict(config)!r} is not valid in the search space: {exc}") from exc


def default_config(space: ConfigurationSpace) -> dict[str, Any]:
    return to_dict(space.get_default_configuration())


def sample(space: ConfigurationSpace, n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """``n`` random valid configurations, reproducible from ``rng``."""
    space.seed(int(rng.integers(2**31 - 1)))
    configs = space.sample_configuration(n) if n > 1 else [space.sample_configuration()]
    return [to_dict(c) for c in configs][:n]


def space_to_json(space: ConfigurationSpace) -> str:
    buf = io.StringIO()
    space.to_json(buf)
    return buf.getvalue()


def space_from_json(text: str) -> ConfigurationSpace:
    return ConfigurationSpace.from_json(io.StringIO(text))


def config_key(config: Mapping[str, Any]) -> str:
    """A canonical string for a configuration, to find duplicates."""
    return json.dumps({k: plain(v) for k, v in config.items()}, sort_keys=True, default=str)
