"""What ``strategy=`` means for the AutoML estimators: an optimizer or scheduler, and for ``"auto"``
a portfolio of known-good configurations first, then model-based search.

The portfolio is ordered so that the first minutes of a search are already good on most tables:
gradient boosting with its defaults, then diverse families (bagged trees, a linear model, a second
boosting implementation, k-NN) whose mistakes differ, which is what ensemble selection needs. Families
outside the default space (``default_in_space=False``, e.g. the network ``"nn"``) follow with their
defaults when included, so that a user who asks for one sees it evaluated rather than left to the
optimizer's few random draws.
"""

from __future__ import annotations

from typing import Any

from ConfigSpace import ConfigurationSpace
from ConfigSpace.util import deactivate_inactive_hyperparameters

from autolearn.components.registry import get
from autolearn.tune import space as spaces
from autolearn.tune.optimizers import OPTIMIZERS, Optimizer, make_optimizer

AUTO_OPTIMIZER = "gp"  # best on the mixed and conditional problems of tests/tune/optimizers; see RESULTS.md

PORTFOLIO: list[tuple[str, dict[str, Any]]] = [
    ("lightgbm", {}),
    ("extra_trees", {}),
    ("logistic_regression", {}),
    ("ridge", {}),
    ("random_forest", {}),
    ("hist_gradient_boosting", {}),
    ("lightgbm", {"learning_rate": 0.1, "num_leaves": 15, "min_child_samples": 10, "colsample_bytree": 0.7}),
    ("knn", {}),
    ("lightgbm", {"learning_rate": 0.03, "num_leaves": 63, "min_child_samples": 5, "subsample": 0.8,
                  "colsample_bytree": 0.5, "reg_lambda": 5.0}),
    ("mlp", {}),
]


def with_model(space: ConfigurationSpace, model: str, overrides: dict[str, Any] | None = None) -> dict | None:
    """The space's default configuration with ``model`` (and its defaults, then ``overrides``) swapped in;
    None when ``model`` is not in the space or an override is not legal there."""
    if "model" not in space or model not in space["model"].choices:
        return None
    values = {k: v for k, v in spaces.default_config(space).items() if ":" not in k or not _is_model_hp(space, k)}
    values["model"] = model
    prefix = f"{model}:"
    for hp in space.values():
        if hp.name.startswith(prefix):
            values[hp.name] = hp.default_value
    for name, value in (overrides or {}).items():
        key = prefix + name
        if key not in space or not space[key].legal_value(value):
            return None
        values[key] = value
    try:
        config = deactivate_inactive_hyperparameters(values, space)
    except (ValueError, KeyError):
        return None
    return spaces.to_dict(config)


def _is_model_hp(space: ConfigurationSpace, name: str) -> bool:
    return name.split(":", 1)[0] in space["model"].choices


def portfolio(space: ConfigurationSpace) -> list[dict[str, Any]]:
    """The portfolio's configurations that exist in ``space`` (include/exclude may remove some), then the
    defaults of included families that are not in the default space."""
    opted_in = [(m, {}) for m in space["model"].choices if not get(m).default_in_space] if "model" in space else []
    configs, seen = [], set()
    for model, overrides in [*PORTFOLIO, *opted_in]:
        config = with_model(space, model, overrides)
        if config is not None and spaces.config_key(config) not in seen:
            seen.add(spaces.config_key(config))
            configs.append(config)
    return configs


def initial_design(space: ConfigurationSpace, recommended: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Meta-learned recommendations first, then the hand-made portfolio; duplicates once.

    The recommendations (the meta-database's portfolio, ordered by gain per unit of evaluation time)
    reach a given loss in far less time than the hand-made portfolio, which opens with the costlier
    boosting defaults; the hand-made ones follow as a safety net that costs a short budget nothing.
    """
    configs, seen = [], set()
    for config in [*recommended, *portfolio(space)]:
        key = spaces.config_key(config)
        if key not in seen:
            seen.add(key)
            configs.append(config)
    return configs


def make_strategy(strategy: str, space: ConfigurationSpace, seed: int,
                  recommended: list[dict[str, Any]] | None = None) -> Optimizer:
    """The optimizer or scheduler behind ``strategy=`` (an optimizer name, a scheduler name or "auto").

    ``recommended`` (meta-learned warm-start configurations) are evaluated first by every strategy.
    """
    recommended = recommended or []
    if strategy == "auto":
        optimizer = make_optimizer(AUTO_OPTIMIZER, space, seed=seed, initial_design=initial_design(space, recommended))
    elif strategy in OPTIMIZERS:
        optimizer = make_optimizer(strategy, space, seed=seed, initial_design=recommended)
    else:
        from autolearn.tune.schedulers import SCHEDULERS, make_scheduler

        if strategy not in SCHEDULERS:
            raise ValueError(f"unknown strategy {strategy!r}; expected 'auto', one of {', '.join(OPTIMIZERS)} "
                             f"or one of {', '.join(SCHEDULERS)}")
        optimizer = make_scheduler(strategy, space, seed=seed, initial_design=recommended)
    optimizer.cost_group = uncapped_model
    return optimizer


def uncapped_model(config: dict[str, Any]) -> str | None:
    """The model of a configuration whose trials cannot be time-capped (no iterations or epochs to cut
    short, as for kernel SVMs or k-NN): its cost is set by the data's size, so one trial killed at the
    limit predicts the same for the others. None for capped models, whose kills are accidents."""
    model = config.get("model")
    return model if model is not None and not get(model).time_capped else None
