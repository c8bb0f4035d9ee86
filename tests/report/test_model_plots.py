"""Model plots on held-out data, for our estimators and for plain scikit-learn ones (multiclass too)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from autolearn.report import model_plots as mp


def _renders(fig: Figure) -> None:
    assert isinstance(fig, Figure) and fig.axes
    fig.savefig(io.BytesIO(), format="png")


@pytest.mark.parametrize("name", list(mp.MODEL_PLOTS["classification"]))
def test_classification_plots(name, clf_model, clf_data):
    _, _, X_test, y_test = clf_data
    _renders(mp.MODEL_PLOTS["classification"][name](clf_model, X_test, y_test))


@pytest.mark.parametrize("name", list(mp.MODEL_PLOTS["regression"]))
def test_regression_plots(name, reg_model, reg_data):
    _, _, X_test, y_test = reg_data
    _renders(mp.MODEL_PLOTS["regression"][name](reg_model, X_test, y_test))


def test_classification_plots_need_a_classifier(reg_model, reg_data):
    _, _, X_test, y_test = reg_data
    with pytest.raises(TypeError, match="classifier"):
        mp.plot_roc_curve(reg_model, X_test, y_test)


def test_feature_importance_and_partial_dependence(clf_model, clf_data):
    _, _, X_test, y_test = clf_data
    _renders(mp.plot_feature_importance(clf_model, X_test, y_test, n_repeats=2))
    fig = mp.plot_partial_dependence(clf_model, X_test, y=y_test, top=3)
    _renders(fig)
    assert "<yes>" in fig.get_suptitle() or "no&" in fig.get_suptitle()


def test_partial_dependence_of_a_categorical_column(reg_model, reg_data):
    _, _, X_test, _ = reg_data
    pdp = mp.partial_dependence(reg_model, X_test, "color")
    assert sorted(pdp["value"]) == sorted(X_test["color"].unique())
    _renders(mp.plot_partial_dependence(reg_model, X_test, ["color", "x2"]))


def test_partial_dependence_matches_scikit_learn(reg_model, reg_data):
    """Our batched version computes what sklearn's brute-force partial dependence computes."""
    from sklearn.inspection import partial_dependence

    _, _, X_test, _ = reg_data
    ours = mp.partial_dependence(reg_model, X_test, "x2", grid_resolution=5)
    theirs = partial_dependence(reg_model, X_test, ["x2"], method="brute", custom_values={"x2": ours["value"]})
    np.testing.assert_allclose(ours["average"], theirs["average"][0], rtol=1e-6)


def test_multiclass_plots_with_a_scikit_learn_classifier():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    labels = np.array(["set<osa", "versi&color", "virginica"])[y]
    model = LogisticRegression(max_iter=500).fit(X, labels)
    for fn in mp.MODEL_PLOTS["classification"].values():
        _renders(fn(model, X, labels))
    _renders(mp.plot_partial_dependence(model, X, y=labels, top=2))
    _renders(mp.plot_feature_importance(model, pd.DataFrame(X), labels))
