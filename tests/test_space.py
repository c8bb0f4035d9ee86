from __future__ import annotations

import io

import numpy as np
import pytest
from ConfigSpace import Configuration, ConfigurationSpace

from autolearn.components import KINDS, TASKS, get
from autolearn.data.schema import Schema
from autolearn.space import build_space, config_to_components

MIXED = Schema(("x", "c"), {"x": "numeric", "c": "categorical"})
NUMERIC = Schema(("x0", "x1"), {"x0": "numeric", "x1": "numeric"})


@pytest.mark.parametrize("task", TASKS)
def test_default_configuration_is_valid_and_strong(task):
    cs = build_space(task, schema=MIXED, seed=0)
    default = cs.get_default_configuration()
    cs.check_configuration(default)
    assert default["model"] == "lightgbm"
    parts = config_to_components(default)
    assert set(parts) == set(KINDS)
    assert parts["model"][1] == {k: v for k, v in get("lightgbm").defaults(task).items()}


@pytest.mark.parametrize("task", TASKS)
def test_hyperparameters_are_prefixed_and_conditional(task):
    cs = build_space(task, schema=MIXED, seed=1)
    for config in cs.sample_configuration(100):
        values = dict(config)
        chosen = {values[k] for k in KINDS}
        for name in values:
            if ":" in name:
                assert name.split(":")[0] in chosen
        for kind, (comp, params) in config_to_components(config).items():
            assert get(comp).kind == kind
            assert set(params) <= set(get(comp).defaults(task))


def test_space_size():
    cs = build_space("binary", schema=MIXED)
    assert 40 <= len(list(cs.values())) <= 120
    active = [len(dict(c)) for c in cs.sample_configuration(300)]
    assert min(active) >= 5 and max(active) >= 18


def test_encoder_only_with_categorical_columns():
    assert "encoder" in build_space("binary", schema=MIXED)
    assert "encoder" not in build_space("binary", schema=NUMERIC)
    assert "encoder" in build_space("binary")  # unknown schema: keep the choice


def test_include_restricts_each_kind_it_names():
    cs = build_space("binary", include=["random_forest", "extra_trees", "pca"])
    assert set(cs["model"].choices) == {"random_forest", "extra_trees"}
    assert cs["model"].default_value == "random_forest"
    assert cs["feature"].choices == ("pca",)
    assert len(cs["scaler"].choices) == 4  # kinds without included names keep everything
    only_scaler = build_space("regression", include=["robust"])
    assert "lightgbm" in only_scaler["model"].choices


def test_exclude_removes_and_default_falls_back():
    cs = build_space("regression", exclude=["lightgbm", "rbf_svr", "quantile"])
    assert "lightgbm" not in cs["model"].choices and "rbf_svr" not in cs["model"].choices
    assert "quantile" not in cs["scaler"].choices
    assert cs["model"].default_value == "hist_gradient_boosting"
    assert not any(name.startswith("lightgbm:") for name in cs)


def test_unknown_and_wrong_task_names_raise():
    with pytest.raises(ValueError, match="valid names") as err:
        build_space("binary", include=["xgboost"])
    assert "lightgbm" in str(err.value)
    with pytest.raises(ValueError, match="not available for 'regression'"):
        build_space("regression", include=["logistic_regression"])
    with pytest.raises(ValueError, match="unknown task"):
        build_space("ranking")


def test_excluding_everything_raises():
    every_model = [c for c in build_space("binary")["model"].choices]
    with pytest.raises(ValueError, match="no model left"):
        build_space("binary", exclude=every_model)
    with pytest.raises(ValueError, match="no scaler left"):
        build_space("binary", exclude=["no_scaling", "standard", "robust", "quantile"])


def test_sparse_space_leaves_out_dense_only_parts():
    cs = build_space("multiclass", schema=NUMERIC, sparse=True)
    assert "hist_gradient_boosting" not in cs["model"].choices and "gaussian_nb" not in cs["model"].choices
    assert "pca" not in cs["feature"].choices and "quantile" not in cs["scaler"].choices
    assert cs["model"].default_value == "lightgbm"


def test_inner_conditions():
    cs = build_space("binary", include=["lda"], seed=3)
    for config in cs.sample_configuration(50):
        assert ("lda:shrinkage_factor" in config) == (config["lda:shrinkage"] == "manual")


def test_seeded_sampling_is_reproducible_and_serializable():
    a = [dict(c) for c in build_space("binary", seed=7).sample_configuration(20)]
    b = [dict(c) for c in build_space("binary", seed=7).sample_configuration(20)]
    assert a == b
    cs = build_space("regression", schema=MIXED)
    buf = io.StringIO()
    cs.to_json(buf)
    assert ConfigurationSpace.from_json(io.StringIO(buf.getvalue())) == cs


def test_config_to_components_accepts_plain_dicts():
    cs = build_space("binary")
    config = dict(cs.sample_configuration())
    parts = config_to_components({k: np.str_(v) if isinstance(v, str) else v for k, v in config.items()})
    assert all(type(name) is str for name, _ in parts.values())
    assert Configuration(cs, values=config) is not None
    assert config_to_components({"model": "ridge", "ridge:alpha": 2.0}) == {"model": ("ridge", {"alpha": 2.0})}
