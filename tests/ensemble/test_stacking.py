import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from autolearn.ensemble.stacking import fit_stacker


def _regression(n=600, seed=0):
    """Two informative members with independent errors and one pure-noise member."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    return [y + 0.5 * rng.normal(size=n), y + 0.5 * rng.normal(size=n), rng.normal(size=n)], y


def _classification(n=600, n_classes=3, seed=0):
    """Two informative probability models and one pure-noise member (random Dirichlet rows)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, size=n)

    def model():
        logits = rng.normal(size=(n, n_classes))
        logits[np.arange(n), y] += 2.0
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    return [model(), model(), rng.dirichlet(np.ones(n_classes), size=n)], y


def _assert_valid_proba(p, n, n_classes):
    assert p.shape == (n, n_classes)
    assert np.all(p >= 0) and np.all(p <= 1)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


@pytest.mark.parametrize("positive", [False, True])
def test_lasso_drops_the_noise_member_in_regression(positive):
    preds, y = _regression()
    stacker = fit_stacker(preds, y, "regression", "lasso", positive=positive)
    assert stacker.members.tolist() == [0, 1]
    assert stacker.weights_[2] == 0.0
    # the least-squares weights are 1 / (2 + 0.25) each for these members; the relaxed refit barely shrinks
    np.testing.assert_allclose(stacker.weights_[:2], 1 / 2.25, atol=0.08)


@pytest.mark.parametrize("task,n_classes", [("binary", 2), ("multiclass", 3)])
@pytest.mark.parametrize("selection", ["cv", "bic"])
def test_lasso_drops_the_noise_member_in_classification(task, n_classes, selection):
    preds, y = _classification(n_classes=n_classes)
    stacker = fit_stacker(preds, y, task, "lasso", penalty_selection=selection)
    assert stacker.members.tolist() == [0, 1]
    proba = stacker.predict(preds)
    _assert_valid_proba(proba, len(y), n_classes)
    log_loss_stack = -np.mean(np.log(proba[np.arange(len(y)), y]))
    log_loss_best = min(-np.mean(np.log(p[np.arange(len(y)), y])) for p in preds)
    assert log_loss_stack < log_loss_best


@pytest.mark.parametrize("task,n_classes", [("binary", 2), ("multiclass", 4)])
@pytest.mark.parametrize("method", ["ridge", "lasso", "elasticnet"])
@pytest.mark.parametrize("positive", [False, True])
def test_probabilities_are_valid(task, n_classes, method, positive):
    preds, y = _classification(n=300, n_classes=n_classes, seed=1)
    preds[0][:5] = 0.0  # an overconfident member: zeros must not produce NaN or infinite log-odds
    preds[0][:5, 0] = 1.0
    stacker = fit_stacker(preds, y, task, method, positive=positive, penalty_selection="aic")
    _assert_valid_proba(stacker.predict(preds), len(y), n_classes)
    if positive:
        assert (stacker.weights_ >= 0).all()


def test_positive_forbids_negative_weights():
    preds, y = _regression()
    flipped = [preds[0], -preds[1]]  # the second member is useful only with a negative weight
    assert fit_stacker(flipped, y, "regression", "ridge").weights_[1] < 0
    assert fit_stacker(flipped, y, "regression", "ridge", positive=True).weights_[1] == 0.0
    cpreds, cy = _classification(n_classes=2)
    cflipped = [cpreds[0], cpreds[1][:, ::-1].copy()]
    assert fit_stacker(cflipped, cy, "binary", "ridge").weights_[1] < 0
    assert fit_stacker(cflipped, cy, "binary", "ridge", positive=True).weights_[1] == 0.0


@pytest.mark.parametrize("l1_ratio,solver", [(0.0, "lbfgs"), (1.0, "saga")])
def test_binary_pooling_is_logistic_regression_on_member_logits(l1_ratio, solver):
    """With two classes the meta-model must equal scikit-learn's penalized logistic regression."""
    from autolearn.ensemble._penalized import SoftmaxPooling

    rng = np.random.default_rng(0)
    n, k = 500, 4
    X = rng.normal(size=(n, k))
    y = (X @ np.array([1.0, -0.5, 0.0, 0.3]) + rng.normal(size=n) > 0).astype(int)
    F = np.zeros((k, n, 2))
    F[:, :, 1] = X.T
    C = 0.05
    point = SoftmaxPooling(F, np.zeros((n, 0)), y, nonneg=False).path(np.array([1 / (n * C)]), l1_ratio)[0]
    reference = LogisticRegression(C=C, l1_ratio=l1_ratio, solver=solver, tol=1e-10, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(point.coef, reference.coef_.ravel(), atol=1e-4)
    np.testing.assert_allclose(point.intercept[1], reference.intercept_[0], atol=1e-4)


def test_passthrough_uses_the_numeric_features():
    rng = np.random.default_rng(2)
    n = 500
    X = pd.DataFrame({"x": rng.normal(size=n), "color": rng.choice(["red", "blue"], size=n)})
    y = rng.normal(size=n) + 2.0 * X["x"].to_numpy()
    preds = [y - 2.0 * X["x"].to_numpy() + 0.3 * rng.normal(size=n)]  # a member that misses x's effect
    plain = fit_stacker(preds, y, "regression", "ridge")
    stacked = fit_stacker(preds, y, "regression", "ridge", passthrough=True, X=X)
    assert stacked.passthrough and stacked.numeric.columns == ["x"]
    error_plain = np.mean((plain.predict(preds) - y) ** 2)
    error_passthrough = np.mean((stacked.predict(preds, X) - y) ** 2)
    assert error_passthrough < 0.5 * error_plain
    with pytest.raises(ValueError, match="needs X"):
        stacked.predict(preds)

    cpreds, cy = _classification(n=n, n_classes=3)
    Xc = np.column_stack([rng.normal(size=n), np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n))])
    clf = fit_stacker(cpreds, cy, "multiclass", "lasso", passthrough=True, X=Xc)
    _assert_valid_proba(clf.predict(cpreds, Xc), n, 3)


def test_information_criteria_and_restrict_and_pickle():
    preds, y = _classification(n_classes=3)
    stacker = fit_stacker(preds, y, "multiclass", "lasso", penalty_selection="bic")
    restricted = stacker.restrict()
    assert restricted.n_models == len(stacker.members)
    np.testing.assert_allclose(restricted.predict([preds[i] for i in stacker.members]), stacker.predict(preds))
    # non-members may be left out as None
    sparse_input = [p if i in stacker.members else None for i, p in enumerate(preds)]
    np.testing.assert_allclose(stacker.predict(sparse_input), stacker.predict(preds))
    clone = pickle.loads(pickle.dumps(stacker))
    np.testing.assert_array_equal(clone.predict(preds), stacker.predict(preds))


def test_invalid_arguments_raise():
    preds, y = _regression(n=50)
    with pytest.raises(ValueError, match="method"):
        fit_stacker(preds, y, "regression", "lars")
    with pytest.raises(ValueError, match="penalty_selection"):
        fit_stacker(preds, y, "regression", penalty_selection="gcv")
    with pytest.raises(ValueError, match="needs X"):
        fit_stacker(preds, y, "regression", passthrough=True)
    with pytest.raises(ValueError, match="expected 3"):
        fit_stacker(preds, y, "regression").predict(preds[:2])
