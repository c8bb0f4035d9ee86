import importlib
import math
import time

import numpy as np
import pandas as pd
import pytest

from autolearn.meta import metafeatures
from autolearn.meta.metafeatures import GROUPS, feature_names
from autolearn.meta.metafeatures._data import _stratified_order, infer_task

CLASSIFICATION_ONLY = [
    "n_classes",
    "class_ratio_min_max",
    "class_entropy",
    "mutual_info_mean",
    "fisher_ratio_max",
    "concept_variation",
    "data_inconsistency",
    "tree_leaves_per_class",
    "landmark_1nn",
    "landmark_lda",
]


def mf(X, y, groups, **kwargs):
    out = metafeatures(X, y, groups=groups, time_limit=None, **kwargs)
    assert out.attrs["errors"] == {}
    assert out.attrs["skipped"] == []
    return out


# -- names and documentation -------------------------------------------------------------------


def test_names_are_unique_and_documented():
    names = feature_names()
    assert len(names) == len(set(names))
    doc = importlib.import_module("autolearn.meta.metafeatures").__doc__
    for name in names:
        stem = name.rsplit("_", 1)[0]
        assert f"\n{name} " in doc or f"\n{stem}_min/" in doc, name


def test_series_has_names_of_selected_groups_in_order():
    out = mf(np.arange(8.0).reshape(4, 2), [0, 0, 1, 1], groups=["information_theoretic", "simple"])
    assert list(out.index) == feature_names(["simple", "information_theoretic"])
    assert out.dtype == float


def test_unknown_group_or_task_is_rejected():
    with pytest.raises(ValueError, match="unknown meta-feature groups"):
        metafeatures(np.eye(4), [0, 0, 1, 1], groups=["nope"])
    with pytest.raises(ValueError, match="unknown task"):
        metafeatures(np.eye(4), [0, 0, 1, 1], task="ranking")


@pytest.mark.parametrize(
    "y, task",
    [
        ([0.5, 1.25, 3.0], "regression"),
        ([1.0, 2.0, 1.0], "binary"),
        ([0, 1, 2, 1], "multiclass"),
        (["a", "b", "b"], "binary"),
        ([True, False, True], "binary"),
    ],
)
def test_task_inference(y, task):
    assert infer_task(np.asarray(y)) == task


def test_stratified_order_prefix_keeps_every_class_and_proportions():
    y = np.repeat([0, 1, 2], [900, 99, 1])
    order = _stratified_order(y, seed=0)
    assert sorted(order) == list(range(1000))
    assert set(y[order[:3]]) == {0, 1, 2}  # the rare class is never lost by a prefix
    assert abs(np.bincount(y[order[:100]], minlength=3)[1] - 10) <= 1


# -- simple ----------------------------------------------------------------------------------


def test_simple_counts_and_missing_ratios():
    X = pd.DataFrame(
        {
            "a": [1.0, 2.0, np.nan, 4.0],
            "b": [0.0, 0.0, 0.0, 0.0],
            "c": pd.Categorical(["x", "y", None, "x"]),
            "d": [True, False, True, True],
        }
    )
    out = mf(X, [0, 0, 1, 2], ["simple"])
    assert out["n_instances"] == 4 and out["n_features"] == 4 and out["n_classes"] == 3
    assert out["n_numeric"] == 2 and out["n_categorical"] == 2  # bool counts as categorical
    assert out["categorical_ratio"] == 0.5
    assert out["missing_ratio"] == 2 / 16
    assert out["rows_with_missing_ratio"] == 1 / 4
    assert out["columns_with_missing_ratio"] == 2 / 4
    assert out["dimensionality"] == 1.0 and out["log_dimensionality"] == 0.0
    assert out["outlier_ratio"] == 0.0


def test_outlier_ratio_uses_1_5_iqr_per_column_and_averages():
    # column a: Q1=2, Q3=4, bounds [-1, 7] -> 100 is the one outlier of 5; column b has none
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 100.0], "b": [1.0, 2.0, 3.0, 4.0, 5.0]})
    out = mf(X, [0, 1, 0, 1, 0], ["simple"])
    assert out["outlier_ratio"] == pytest.approx((1 / 5 + 0) / 2)


def test_rows_without_target_are_dropped():
    out = mf(pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0]}), pd.Series(["u", None, "v", "u"]), ["simple"])
    assert out["n_instances"] == 3 and out["n_classes"] == 2


# -- statistical ---------------------------------------------------------------------------


def test_skewness_kurtosis_correlation_and_sparsity_by_hand():
    x = np.array([0.0, 0.0, 0.0, 1.0])
    # mean 1/4; m2 = 3/16, m3 = 3/32, m4 = 21/256 -> skew 2/sqrt(3), excess kurtosis 7/3 - 3
    X = np.column_stack([x, 2 * x, -x])
    out = mf(X, [0, 1, 0, 1], ["statistical"])
    skew = 2 / math.sqrt(3)
    assert (out["skewness_min"], out["skewness_max"]) == (pytest.approx(-skew), pytest.approx(skew))
    assert out["skewness_mean"] == pytest.approx(skew / 3)  # x and 2x: +skew, -x: -skew
    assert out["kurtosis_mean"] == pytest.approx(7 / 3 - 3)
    assert out["kurtosis_std"] == pytest.approx(0.0, abs=1e-12)
    assert out["feature_correlation_mean"] == pytest.approx(1.0)  # |r| of x~2x, x~-x, 2x~-x
    assert out["sparsity"] == 9 / 12


def test_correlation_ignores_missing_pairwise():
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    b = np.array([2.0, 4.0, np.nan, 8.0, 10.0])  # 2a where present
    out = mf(np.column_stack([a, b]), [0, 1, 0, 1, 0], ["statistical"])
    assert out["feature_correlation_mean"] == pytest.approx(1.0)


def test_class_imbalance():
    out = mf(np.arange(4.0)[:, None], [0, 0, 0, 1], ["statistical"])
    h = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert out["class_ratio_min_max"] == pytest.approx(1 / 3)
    assert out["class_balance_entropy"] == pytest.approx(h)  # log2(2) = 1
    assert (out["class_prob_min"], out["class_prob_max"], out["class_prob_mean"]) == (0.25, 0.75, 0.5)
    assert out["class_prob_std"] == pytest.approx(0.25)
    assert np.isnan(out["target_skewness"])


# -- information-theoretic --------------------------------------------------------------------


def test_entropy_and_mutual_information_by_hand():
    y = [0, 0, 1, 1]
    X = pd.DataFrame({"same": [0.0, 0.0, 1.0, 1.0], "independent": pd.Categorical(["p", "q", "p", "q"])})
    out = mf(X, y, ["information_theoretic"])
    assert out["class_entropy"] == pytest.approx(1.0)
    assert out["attr_entropy_mean"] == pytest.approx(1.0)
    assert out["mutual_info_mean"] == pytest.approx(0.5)  # 1 bit and 0 bits
    assert out["equivalent_n_features"] == pytest.approx(2.0)
    assert out["noise_signal_ratio"] == pytest.approx(1.0)


def test_no_information_gives_nan_ratios():
    out = mf(np.zeros((4, 1)), [0, 0, 1, 1], ["information_theoretic"])
    assert out["mutual_info_mean"] == 0.0 and out["attr_entropy_mean"] == 0.0
    assert np.isnan(out["equivalent_n_features"]) and np.isnan(out["noise_signal_ratio"])


# -- complexity ----------------------------------------------------------------------------


def test_fisher_ratio_of_a_separable_feature():
    # means 0.5 / 10.5, overall 5.5: between = 2*25 + 2*25 = 100; within = 4 * 0.25 = 1
    X = np.array([[0.0, 5.0], [1.0, 1.0], [10.0, 5.0], [11.0, 1.0]])
    out = mf(X, [0, 0, 1, 1], ["complexity"])
    assert out["fisher_ratio_max"] == pytest.approx(100.0)
    assert out["fisher_ratio_inverse"] == pytest.approx(1 / 101)
    assert out["volume_overlap"] == 0.0  # feature 0 separates the class ranges


def test_fisher_ratio_is_infinite_without_within_class_spread():
    out = mf(np.array([[0.0], [0.0], [1.0], [1.0]]), [0, 0, 1, 1], ["complexity"])
    assert out["fisher_ratio_max"] == np.inf and out["fisher_ratio_inverse"] == 0.0


def test_volume_overlap_by_hand():
    # class 0 in [0, 2], class 1 in [1, 3]: overlap 1 over range 3
    out = mf(np.array([[0.0], [2.0], [1.0], [3.0]]), [0, 0, 1, 1], ["complexity"])
    assert out["volume_overlap"] == pytest.approx(1 / 3)


def test_concept_variation_by_hand():
    # one feature already in [0, 1] (d = 1): a neighbour at distance delta weighs
    # 2^(-2 delta / (1 - delta)); the opposite end (delta = 1) weighs 0
    x = np.array([0.0, 0.1, 0.9, 1.0])
    out = mf(x[:, None], [0, 0, 1, 1], ["complexity"])
    w = lambda delta: 2 ** (-2 * delta / (1 - delta))  # noqa: E731
    end = w(0.9) / (w(0.1) + w(0.9))  # 0 and 1: twin at 0.1, other class at 0.9 (and at 1.0, weight 0)
    inner = (w(0.8) + w(0.9)) / (w(0.1) + w(0.8) + w(0.9))  # 0.1 and 0.9
    assert out["concept_variation"] == pytest.approx((end + inner) / 2)
    assert out["concept_variation"] < 0.01


def test_data_inconsistency_counts_rows_of_conflicting_duplicates():
    X = pd.DataFrame({"a": [1.0, 1.0, 2.0, 3.0, np.nan, np.nan], "b": ["u", "u", "u", "v", "w", "w"]})
    out = mf(X, [0, 1, 0, 0, 1, 1], ["complexity"])
    assert out["data_inconsistency"] == pytest.approx(2 / 6)  # rows 0 and 1; the NaN twins agree


# -- model-based -------------------------------------------------------------------------------


def test_tree_on_a_separable_feature():
    out = mf(np.array([[0.0, 3.0], [0.0, 1.0], [1.0, 3.0], [1.0, 2.0]]), [0, 0, 1, 1], ["model_based"])
    assert (out["tree_nodes"], out["tree_leaves"], out["tree_depth"]) == (3, 2, 1)
    assert out["tree_branch_length_mean"] == 1 and out["tree_branch_length_std"] == 0
    assert out["tree_nodes_per_feature"] == 1.5 and out["tree_leaves_per_class"] == 1
    assert out["tree_leaves_agreement"] == 1.0
    assert (out["tree_importance_min"], out["tree_importance_max"], out["tree_importance_mean"]) == (0, 1, 0.5)


def test_one_leaf_tree_when_nothing_splits():
    out = mf(np.ones((4, 2)), [0, 1, 0, 1], ["model_based"])
    assert (out["tree_nodes"], out["tree_leaves"], out["tree_depth"]) == (1, 1, 0)
    assert out["tree_branch_length_max"] == 0
    assert out["tree_leaves_agreement"] == 0.5
    assert out["tree_importance_max"] == 0


# -- landmarkers --------------------------------------------------------------------------------


def test_landmarkers_on_separable_classes():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    X = np.column_stack([y * 10 + rng.normal(size=60), rng.normal(size=60)])
    out = mf(X, y, ["landmarkers"])
    for name in ["landmark_1nn", "landmark_stump", "landmark_lda", "landmark_naive_bayes"]:
        assert out[name] == 1.0, name
    assert 0.5 <= out["landmark_random_tree"] <= 1.0
    assert np.isnan(out["landmark_linear_r2"])


# -- regression -----------------------------------------------------------------------------------


def test_regression_analogues_and_classification_only_nan():
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    X = pd.DataFrame({"x": x, "noise": rng.normal(size=200), "c": rng.choice(["a", "b"], 200)})
    y = 2.0 * x + 0.5
    out = metafeatures(X, y, time_limit=None)
    assert out.attrs["task"] == "regression" and out.attrs["errors"] == {}
    for name in CLASSIFICATION_ONLY:
        assert np.isnan(out[name]), name
    assert out["target_correlation_max"] == pytest.approx(1.0)
    assert out["target_skewness"] == pytest.approx(float(pd.Series(x).skew()), rel=0.05)
    assert out["landmark_linear_r2"] == pytest.approx(1.0)
    assert out["landmark_1nn_r2"] > 0.9
    assert out["tree_nodes"] > 1 and not np.isnan(out["attr_entropy_mean"])
    assert np.isnan(out["tree_leaves_agreement"])


def test_integer_target_is_regression_only_when_asked():
    X, y = np.arange(10.0)[:, None], np.arange(10)
    assert metafeatures(X, y, groups=["simple"]).attrs["task"] == "multiclass"
    assert metafeatures(X, y, task="regression", groups=["simple"]).attrs["task"] == "regression"


# -- whole call: input kinds, determinism, time ---------------------------------------------


def _mixed(n, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 6)), columns=[f"x{i}" for i in range(6)])
    X["cat"] = pd.Categorical(rng.choice(list("abcd"), n))
    X["obj"] = rng.choice(["u", "v"], n).astype(object)
    X["flag"] = rng.random(n) < 0.3
    X.loc[rng.random(n) < 0.05, "x0"] = np.nan
    X.loc[rng.random(n) < 0.05, "obj"] = None
    y = np.digitize(X["x1"] + 0.5 * rng.normal(size=n), [-1.0, 0.0, 1.0])
    return X, y


def test_every_group_runs_on_mixed_data_and_numpy_input():
    X, y = _mixed(3_000)
    out = metafeatures(X, y, time_limit=None)
    assert out.attrs["errors"] == {} and out.attrs["skipped"] == []
    assert out.attrs["task"] == "multiclass"
    regression_only = [n for n in out.index if n.startswith("target_") or n.endswith("_r2")]
    assert out.drop(regression_only).notna().all()
    arr = metafeatures(X.drop(columns=["cat", "obj", "flag"]).to_numpy(), y, time_limit=None)
    assert arr["n_numeric"] == 6 and arr["n_categorical"] == 0 and arr.attrs["errors"] == {}


def test_same_seed_same_values():
    X, y = _mixed(3_000)
    a = metafeatures(X, y, time_limit=None, seed=3)
    b = metafeatures(X, y, time_limit=None, seed=3)
    pd.testing.assert_series_equal(a, b)


@pytest.fixture(scope="module")
def large():
    return _mixed(200_000, seed=7)


def test_time_limit_holds_on_200k_rows(large):
    X, y = large
    started = time.perf_counter()
    out = metafeatures(X, y, time_limit=5)
    elapsed = time.perf_counter() - started
    assert elapsed < 5 + 2.0
    assert out[list(GROUPS["simple"].names)].notna().all()
    assert out["n_instances"] == 200_000
    assert out.attrs["errors"] == {}


def test_zero_time_limit_keeps_only_the_simple_group(large):
    X, y = large
    started = time.perf_counter()
    out = metafeatures(X, y, time_limit=0)
    assert time.perf_counter() - started < 2.0
    assert out[list(GROUPS["simple"].names)].notna().all()
    others = [n for n in out.index if n not in GROUPS["simple"].names]
    assert out.attrs["skipped"] == others and out[others].isna().all()
