"""Permutation importance and per-row contributions: exactness where the answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autolearn.report.explain import explain, feature_importance


@pytest.fixture(scope="module")
def linear():
    """y = 3 a - 2 b + 0 c exactly, so Shapley values are known in closed form."""
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    y = 3 * X["a"] - 2 * X["b"]
    return LinearRegression().fit(X, y), X, y


def test_sampling_is_exact_for_a_linear_model(linear):
    """With one background row z, every order credits feature j with w_j (x_j - z_j)."""
    model, X, _ = linear
    z = X.iloc[[0]]
    contributions = explain(model, X.iloc[:5], background=z, method="sampling")
    expected = (X.iloc[:5] - z.to_numpy()) * np.array([3.0, -2.0, 0.0])
    np.testing.assert_allclose(contributions.to_numpy(), expected.to_numpy(), atol=1e-9)
    assert contributions.attrs["method"] == "sampling" and contributions.attrs["output"] == "predicted value"


def test_contributions_add_up_to_the_prediction(clf_model, clf_data):
    _, _, X_test, _ = clf_data
    rows = X_test.iloc[:8]
    contributions = explain(clf_model, rows, background=X_test, method="sampling", n_permutations=4)
    assert list(contributions.columns) == list(X_test.columns) and list(contributions.index) == list(rows.index)
    total = contributions.sum(axis=1).to_numpy() + np.array(contributions.attrs["base_value"])
    np.testing.assert_allclose(total, contributions.attrs["prediction"], atol=1e-9)
    assert contributions.attrs["output"] == "probability of class 'no&'"
    np.testing.assert_allclose(contributions.attrs["prediction"], clf_model.predict_proba(rows)[:, 1])


def test_target_class_and_defaults(clf_model, clf_data):
    _, _, X_test, _ = clf_data
    other = explain(clf_model, X_test.iloc[:3], background=X_test, target="<yes>", n_permutations=2)
    np.testing.assert_allclose(other.attrs["prediction"], clf_model.predict_proba(X_test.iloc[:3])[:, 0])
    with pytest.raises(ValueError, match="not one of the model's classes"):
        explain(clf_model, X_test, target="maybe")
    with pytest.raises(ValueError, match="too few"):
        explain(clf_model, X_test.iloc[:3])
    with pytest.raises(ValueError, match="method"):
        explain(clf_model, X_test, method="lime")


def test_multiclass_explains_each_rows_predicted_class():
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    X, y = load_iris(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    contributions = explain(model, X.iloc[::30], background=X, method="sampling", n_permutations=4)
    np.testing.assert_allclose(contributions.attrs["prediction"], model.predict_proba(X.iloc[::30]).max(axis=1))


def test_shap_agrees_with_sampling_on_a_linear_model(linear):
    pytest.importorskip("shap")
    model, X, _ = linear
    z = X.iloc[[0]]
    contributions = explain(model, X.iloc[:4], background=z, method="shap")
    expected = (X.iloc[:4] - z.to_numpy()) * np.array([3.0, -2.0, 0.0])
    np.testing.assert_allclose(contributions.to_numpy(), expected.to_numpy(), atol=1e-6)
    assert contributions.attrs["method"] == "shap"


def test_shap_is_not_used_for_non_numeric_columns(clf_model, clf_data):
    _, _, X_test, _ = clf_data
    auto = explain(clf_model, X_test.iloc[:2], background=X_test, n_permutations=2)
    assert auto.attrs["method"] == "sampling"  # the "color" column is text


def test_feature_importance_ranks_informative_columns_first(reg_model, reg_data):
    _, _, X_test, y_test = reg_data
    frame = feature_importance(reg_model, X_test, y_test, n_repeats=3)
    assert list(frame.columns) == ["feature", "importance", "std"]
    assert sorted(frame["feature"]) == sorted(map(str, X_test.columns))
    assert frame["importance"].is_monotonic_decreasing
    assert frame["feature"].iloc[-1] == "color" or frame["importance"].iloc[-1] < 0.1 * frame["importance"].iloc[0]
    assert frame.attrs["metric"] == "rmse"


def test_feature_importance_of_a_classifier_uses_its_metric(clf_model, clf_data):
    _, _, X_test, y_test = clf_data
    frame = feature_importance(clf_model, X_test, y_test, n_repeats=2, seed=1)
    assert frame.attrs["metric"] == "roc_auc" and frame["importance"].iloc[0] > 0
    with pytest.raises(ValueError, match="never saw"):
        feature_importance(clf_model, X_test, np.full(len(X_test), "other"))


def test_feature_importance_of_any_scikit_learn_estimator(linear):
    model, X, y = linear
    frame = feature_importance(model, X, y, n_repeats=3)
    assert list(frame["feature"][:2]) == ["a", "b"] and abs(frame["importance"].iloc[-1]) < 1e-9
