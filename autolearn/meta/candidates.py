"""The fixed candidate configurations the meta-database evaluates on every dataset.

Portfolios and rank aggregation need a dense dataset x configuration table, so every dataset runs the
same candidates: the space's default, a hand-made portfolio of configurations that are known to do
well on tabular data (boosting with a few regularisation levels, forests, linear models, kNN, MLP,
SVMs, with the preprocessing each likes), then draws from the CASH space with a fixed seed, which
cover what no one thought of. Random draws are taken one at a time from one generator, so the list is
*prefix-stable*: asking for more candidates extends it and leaves the first ones (and their results
in a resumed build) untouched.
"""

from __future__ import annotations

from typing import Any

from autolearn.meta._configs import complete, key
from autolearn.space import build_space
from autolearn.strategy import portfolio
from autolearn.tune.space import to_dict

_STANDARD = {"scaler": "standard"}
_QUANTILE = {"scaler": "quantile", "quantile:n_quantiles": 100}

# Partial configurations: what differs from the space's defaults. Names say what each one is for.
_SHARED: dict[str, dict[str, Any]] = {
    "lgbm_fast": {"model": "lightgbm", "lightgbm:learning_rate": 0.1, "lightgbm:colsample_bytree": 0.8},
    "lgbm_small_leaves": {"model": "lightgbm", "lightgbm:num_leaves": 8, "lightgbm:min_child_samples": 10,
                          "lightgbm:reg_lambda": 5.0},
    "lgbm_big": {"model": "lightgbm", "lightgbm:num_leaves": 128, "lightgbm:learning_rate": 0.03,
                 "lightgbm:min_child_samples": 5, "lightgbm:colsample_bytree": 0.5},
    "lgbm_regularized": {"model": "lightgbm", "lightgbm:num_leaves": 16, "lightgbm:learning_rate": 0.02,
                         "lightgbm:min_child_samples": 40, "lightgbm:reg_alpha": 1.0, "lightgbm:reg_lambda": 10.0,
                         "lightgbm:colsample_bytree": 0.6, "lightgbm:subsample": 0.7},
    "lgbm_tiny_data": {"model": "lightgbm", "lightgbm:num_leaves": 4, "lightgbm:min_child_samples": 3,
                       "lightgbm:learning_rate": 0.03, "lightgbm:reg_lambda": 3.0},
    "lgbm_ordinal": {"model": "lightgbm", "encoder": "ordinal", "lightgbm:colsample_bytree": 0.7},
    "hgb_default": {"model": "hist_gradient_boosting"},
    "hgb_slow": {"model": "hist_gradient_boosting", "hist_gradient_boosting:learning_rate": 0.04,
                 "hist_gradient_boosting:max_leaf_nodes": 15, "hist_gradient_boosting:l2_regularization": 0.1,
                 "hist_gradient_boosting:min_samples_leaf": 10},
    "rf_default": {"model": "random_forest"},
    "rf_sqrt_leaf2": {"model": "random_forest", "random_forest:max_features": 0.15,
                      "random_forest:min_samples_leaf": 2},
    "rf_ordinal_indicator": {"model": "random_forest", "encoder": "ordinal", "median:add_indicator": True},
    "et_default": {"model": "extra_trees"},
    "et_leaf2": {"model": "extra_trees", "extra_trees:max_features": 0.3, "extra_trees:min_samples_leaf": 2},
    "knn_5_distance": {"model": "knn", "knn:n_neighbors": 5, "knn:weights": "distance", **_STANDARD},
    "knn_15_quantile": {"model": "knn", "knn:n_neighbors": 15, **_QUANTILE},
    "mlp_default": {"model": "mlp", **_STANDARD},
    "mlp_wide": {"model": "mlp", "mlp:num_nodes_per_layer": 256, "mlp:alpha": 1e-3, **_QUANTILE},
    "tree_depth6": {"model": "decision_tree", "decision_tree:max_depth": 6, "decision_tree:min_samples_leaf": 10},
}
_CLASSIFICATION: dict[str, dict[str, Any]] = {
    "logreg_C1": {"model": "logistic_regression", **_STANDARD},
    "logreg_C0.1_quantile": {"model": "logistic_regression", "logistic_regression:C": 0.1, **_QUANTILE},
    "logreg_C10": {"model": "logistic_regression", "logistic_regression:C": 10.0, **_STANDARD},
    "svm_rbf": {"model": "rbf_svm", "rbf_svm:C": 10.0, "rbf_svm:gamma": 0.01, **_STANDARD},
    "lda_shrinkage": {"model": "lda"},
    "gaussian_nb": {"model": "gaussian_nb", **_QUANTILE},
    "rf_entropy": {"model": "random_forest", "random_forest:criterion": "entropy",
                   "random_forest:max_features": 0.3},
}
_REGRESSION: dict[str, dict[str, Any]] = {
    "ridge_1": {"model": "ridge", **_STANDARD},
    "ridge_10_quantile": {"model": "ridge", "ridge:alpha": 10.0, **_QUANTILE},
    "lasso_small": {"model": "lasso", "lasso:alpha": 1e-3, **_STANDARD},
    "elastic_net": {"model": "elastic_net", "elastic_net:alpha": 1e-3, "elastic_net:l1_ratio": 0.5, **_STANDARD},
    "svr_rbf": {"model": "rbf_svr", "rbf_svr:C": 10.0, "rbf_svr:gamma": 0.05, "rbf_svr:epsilon": 0.05,
                **_STANDARD},
    "rf_third": {"model": "random_forest", "random_forest:max_features": 0.33, "random_forest:min_samples_leaf": 2},
    "et_bagged": {"model": "extra_trees", "extra_trees:bootstrap": True, "extra_trees:min_samples_leaf": 2},
}


def handmade(task: str) -> dict[str, dict[str, Any]]:
    """The hand-made portfolio for ``task`` as complete configurations of ``build_space(task)``.

    Raises ValueError naming the entry when the space changed under it (a test runs this).
    """
    space = build_space(task)
    extra = _REGRESSION if task == "regression" else _CLASSIFICATION
    out = {}
    for name, partial in {**_SHARED, **extra}.items():
        try:
            out[name] = complete(space, partial)
        except ValueError as exc:
            raise ValueError(f"hand-made candidate {name!r} for {task!r}: {exc}") from exc
    return out


def candidates(task: str, n: int, seed: int = 0) -> list[tuple[str, dict[str, Any]]]:
    """The first ``n`` candidates for ``task`` as ``(origin, configuration)``, without duplicates.

    Origins are ``"default"``, ``"automl:<i>"`` (the AutoML strategy's hand-made opening,
    ``autolearn.strategy.portfolio``), ``"handmade:<name>"`` and ``"random"``. When ``n`` is smaller than the
    default plus the hand-made portfolio, the list is cut (the portfolio is ordered by how often its
    entries are expected to matter).
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    space = build_space(task, seed=seed)
    out: list[tuple[str, dict[str, Any]]] = [("default", to_dict(space.get_default_configuration()))]
    seen = {key(out[0][1])}
    fixed = [(f"automl:{i}", c) for i, c in enumerate(portfolio(space))]  # so a learned portfolio can pick them
    for origin, config in [*fixed, *((f"handmade:{name}", c) for name, c in handmade(task).items())]:
        if key(config) not in seen:
            seen.add(key(config))
            out.append((origin, config))
    attempts = 0
    while len(out) < n and attempts < 100 * n:  # one draw at a time from one generator: prefix-stable
        attempts += 1
        config = to_dict(space.sample_configuration())
        if key(config) not in seen:
            seen.add(key(config))
            out.append(("random", config))
    return out[:n]
