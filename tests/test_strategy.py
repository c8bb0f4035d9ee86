"""What strategy="auto" starts with: meta-learned recommendations, then the hand-made portfolio."""

from __future__ import annotations

import pytest

from autolearn.space import build_space
from autolearn.strategy import initial_design, make_strategy, portfolio, uncapped_model, with_model
from autolearn.tune.space import config_key


def test_recommendations_come_first_then_the_portfolio_without_duplicates():
    space = build_space("binary")
    fixed = portfolio(space)
    knn = with_model(space, "knn", {"n_neighbors": 15})
    design = initial_design(space, [knn, fixed[3]])
    keys = [config_key(c) for c in design]
    assert keys[:2] == [config_key(knn), config_key(fixed[3])]
    assert keys[2:] == [config_key(c) for c in fixed if config_key(c) != config_key(fixed[3])]
    assert initial_design(space, []) == fixed


def test_portfolio_keeps_only_what_the_space_has():
    space = build_space("binary", include=["lightgbm", "knn"])
    assert {c["model"] for c in portfolio(space)} == {"lightgbm", "knn"}
    assert with_model(space, "mlp") is None
    assert with_model(space, "lightgbm", {"num_leaves": -3}) is None  # not a legal value


def test_an_included_network_opens_with_its_default_and_the_default_space_has_none():
    pytest.importorskip("torch")
    assert "nn" not in {c["model"] for c in portfolio(build_space("binary"))}
    models = [c["model"] for c in portfolio(build_space("binary", include=["lightgbm", "mlp", "nn"]))]
    assert models[-1] == "nn" and models.count("nn") == 1


def test_auto_strategy_asks_the_design_first():
    space = build_space("regression")
    recommended = [with_model(space, "ridge"), with_model(space, "knn")]
    optimizer = make_strategy("auto", space, seed=0, recommended=recommended)
    first = [optimizer.ask().config for _ in range(3)]
    assert [config_key(c) for c in first] == [config_key(c) for c in initial_design(space, recommended)[:3]]


@pytest.mark.parametrize("strategy", ["auto", "random", "hyperband"])
def test_every_strategy_drops_queued_models_like_one_killed_at_its_limit(strategy):
    assert make_strategy(strategy, build_space("binary"), seed=0).cost_group is uncapped_model


def test_only_models_that_cannot_be_time_capped_form_cost_groups():
    space = build_space("regression")
    assert uncapped_model(with_model(space, "rbf_svr")) == "rbf_svr"
    assert uncapped_model(with_model(space, "knn")) == "knn"
    assert uncapped_model(with_model(space, "lightgbm")) is None  # trained to what fits in the limit
    assert uncapped_model(with_model(space, "mlp")) is None
