"""Configurations of the CASH space as plain dicts: completing partial ones, checking them, moving
them into a smaller space.

The meta-database stores configurations of ``build_space(task)`` with every choice present. A user's
search space can be smaller (``include``/``exclude``, no categorical columns so no ``"encoder"``), so
a stored configuration is *projected* before it is enqueued: the model must be available (it is what
the configuration is about); a preprocessing step that is not falls back to the space's default.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from ConfigSpace import ConfigurationSpace

from autolearn.space import SEP
from autolearn.tune.space import config_key, plain, to_configuration


def complete(space: ConfigurationSpace, partial: Mapping[str, Any]) -> dict[str, Any]:
    """``partial`` with every active hyperparameter it leaves out set to the space's default.

    Raises ValueError when ``partial`` names a hyperparameter that is unknown or inactive in the
    result, or a value out of range: a hand-written configuration must mean exactly what it says.
    """
    out = _fill(space, partial)
    extra = sorted(set(partial) - set(out))
    if extra:
        raise ValueError(f"configuration {dict(partial)!r}: {extra} unknown or inactive in the search space")
    to_configuration(space, out)  # ranges and choices
    return out


def project(space: ConfigurationSpace, config: Mapping[str, Any]) -> dict[str, Any] | None:
    """``config`` moved into ``space``, or None when its model is not in ``space`` or a value is invalid.

    Top-level choices missing from ``space`` (e.g. ``"encoder"`` when the data has no categorical
    columns) are dropped with their hyperparameters; a preprocessing choice the space does not offer
    becomes the space's default for that kind.
    """
    wanted: dict[str, Any] = {}
    for name in _top_level(space):
        hp = space[name]
        choice = config.get(name)
        if choice not in hp.choices:
            if name == "model":
                return None
            choice = hp.default_value
        wanted[name] = plain(choice)
        prefix = f"{choice}{SEP}"
        wanted.update({k: plain(v) for k, v in config.items() if k.startswith(prefix) and k in space})
    out = _fill(space, wanted)
    try:
        to_configuration(space, out)
    except ValueError:
        return None
    return out


def is_valid(space: ConfigurationSpace, config: Mapping[str, Any]) -> str | None:
    """None when ``config`` is exactly a configuration of ``space``, else why not."""
    try:
        to_configuration(space, config)
    except ValueError as exc:
        return str(exc.__cause__ or exc)
    return None


def key(config: Mapping[str, Any]) -> str:
    """A short stable identity of a configuration (results files are keyed by it)."""
    return hashlib.sha1(config_key(config).encode()).hexdigest()[:16]


def _top_level(space: ConfigurationSpace) -> list[str]:
    return [name for name in space if not space.parent_conditions_of[name]]


def _fill(space: ConfigurationSpace, wanted: Mapping[str, Any]) -> dict[str, Any]:
    """Active hyperparameters of ``space`` given ``wanted``'s choices; ConfigSpace orders
    hyperparameters topologically, so a parent's value is known before its children are visited."""
    out: dict[str, Any] = {}
    for hp in space.values():
        conditions = space.parent_conditions_of[hp.name]
        if any(c.parent.name not in out or not c.satisfied_by_value(out) for c in conditions):
            continue
        out[hp.name] = plain(wanted.get(hp.name, hp.default_value))
    return out
