import numpy as np
import pytest

from autolearn.ensemble.selection import ensemble_selection
from autolearn.evaluation.metrics import get_metric


def _complementary_regression(n=400, seed=0):
    """A and B err in opposite directions, so their average is exact; C is unrelated noise."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    error = rng.normal(scale=0.5, size=n)
    return [y + error, y - error, rng.normal(size=n)], y


def _complementary_binary(n=400, seed=0):
    """A is confident on the first half and wrong-ish on the second, B the reverse; their average
    gives the true class 0.65 everywhere, which beats either alone and any other mix."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    first = np.arange(n) < n // 2

    def model(p_true_first, p_true_second):
        p_true = np.where(first, p_true_first, p_true_second)
        p1 = np.where(y == 1, p_true, 1 - p_true)
        return np.column_stack([1 - p1, p1])

    bad = rng.dirichlet([1.0, 1.0], size=n)
    return [model(0.9, 0.4), model(0.4, 0.9), bad], y


def test_regression_picks_the_complementary_pair():
    preds, y = _complementary_regression()
    weights = ensemble_selection(preds, y, get_metric("rmse", "regression"), size=20)
    np.testing.assert_allclose(weights, [0.5, 0.5, 0.0])


@pytest.mark.parametrize("metric", ["log_loss", "roc_auc", "accuracy"])
def test_classification_picks_the_complementary_pair(metric):
    preds, y = _complementary_binary()
    weights = ensemble_selection(preds, y, get_metric(metric, "binary"), size=20)
    assert weights[2] == 0.0
    np.testing.assert_allclose(weights, [0.5, 0.5, 0.0])


def test_weights_are_normalized_counts_and_never_worse_than_the_best_single_model():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, size=300)
    preds = [rng.dirichlet(np.ones(3), size=300) for _ in range(8)]
    metric = get_metric("log_loss", "multiclass")
    size = 25
    weights = ensemble_selection(preds, y, metric, size=size)
    assert np.isclose(weights.sum(), 1.0) and (weights >= 0).all()
    counts = weights * np.round(1 / weights[weights > 0].min())
    np.testing.assert_allclose(counts, np.round(counts))  # integer counts, normalized
    blend = sum(w * p for w, p in zip(weights, preds))
    assert metric.loss(y, blend) <= min(metric.loss(y, p) for p in preds) + 1e-12


def test_non_finite_candidates_get_zero_weight():
    preds, y = _complementary_regression()
    broken = preds[0].copy()
    broken[3] = np.nan
    weights = ensemble_selection([broken, *preds], y, get_metric("rmse", "regression"))
    assert weights[0] == 0.0
    np.testing.assert_allclose(weights[1:], [0.5, 0.5, 0.0])


def test_patience_stops_early_with_the_same_best_prefix():
    preds, y = _complementary_regression()
    weights = ensemble_selection(preds, y, get_metric("rmse", "regression"), size=50, patience=2)
    np.testing.assert_allclose(weights, [0.5, 0.5, 0.0])


def test_sorted_initialization_starts_from_the_best_models():
    preds, y = _complementary_regression()
    metric = get_metric("rmse", "regression")
    # the two best single models are A and B: sorted initialization alone already finds their average
    weights = ensemble_selection(preds, y, metric, size=2, init_best=2)
    np.testing.assert_allclose(weights, [0.5, 0.5, 0.0])
    weights = ensemble_selection(preds, y, metric, size=3, init_best=3)  # C joins, then is cut: best prefix
    np.testing.assert_allclose(weights, [0.5, 0.5, 0.0])


def test_bagging_averages_bags_and_favours_the_good_pair():
    preds, y = _complementary_regression()
    rng = np.random.default_rng(1)
    library = preds[:2] + [y + rng.normal(scale=s, size=len(y)) for s in (1.5, 2.0, 2.5, 3.0)]
    metric = get_metric("rmse", "regression")
    weights = ensemble_selection(library, y, metric, bagging=True, n_bags=20, bag_fraction=0.5, seed=4)
    assert np.isclose(weights.sum(), 1.0) and (weights >= 0).all()
    assert set(np.argsort(-weights)[:2]) == {0, 1}
    again = ensemble_selection(library, y, metric, bagging=True, n_bags=20, bag_fraction=0.5, seed=4)
    np.testing.assert_array_equal(weights, again)


def test_max_members_with_bagging_prunes_the_union():
    preds, y = _complementary_regression()
    rng = np.random.default_rng(1)
    library = preds[:2] + [y + rng.normal(scale=s, size=len(y)) for s in (1.0, 1.2, 1.4)]
    weights = ensemble_selection(library, y, get_metric("rmse", "regression"), bagging=True, n_bags=10,
                                 max_members=2, seed=0)
    assert np.count_nonzero(weights) <= 2 and np.isclose(weights.sum(), 1.0)


def test_invalid_inputs_raise():
    metric = get_metric("rmse", "regression")
    with pytest.raises(ValueError, match="same shape"):
        ensemble_selection([np.zeros(3), np.zeros(4)], np.zeros(3), metric)
    with pytest.raises(ValueError, match="rows"):
        ensemble_selection([np.zeros(3)], np.zeros(4), metric)
    with pytest.raises(ValueError, match="at least one"):
        ensemble_selection([], np.zeros(4), metric)


@pytest.mark.filterwarnings("error")
def test_float32_probabilities_from_the_store_are_accepted_by_log_loss():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 7, size=2000)
    preds = [rng.dirichlet(np.ones(7), size=2000).astype(np.float32) for _ in range(4)]
    weights = ensemble_selection(preds, y, get_metric("log_loss", "multiclass"), size=10)
    assert np.isclose(weights.sum(), 1.0)


def test_every_cost_column_is_a_limit_on_the_distinct_members():
    """Column 0 (latency) allows the complementary pair, column 1 (refit time) only one of the two."""
    preds, y = _complementary_regression()
    metric = get_metric("rmse", "regression")
    costs = np.array([[1.0, 0.6], [1.0, 0.6], [1.0, 0.1]])
    both = ensemble_selection(preds, y, metric, size=20, costs=costs, max_cost=[2.0, None])
    np.testing.assert_allclose(both, [0.5, 0.5, 0.0])
    one = ensemble_selection(preds, y, metric, size=20, costs=costs, max_cost=[2.0, 1.0])
    assert np.count_nonzero(one[:2]) == 1 and np.isclose(one.sum(), 1.0)
    only_c = ensemble_selection(preds, y, metric, size=20, costs=costs, max_cost=[2.0, 0.2])
    np.testing.assert_allclose(only_c, [0.0, 0.0, 1.0])  # only C fits the refit limit
    with pytest.warns(RuntimeWarning, match="cost limit"):
        fallback = ensemble_selection(preds, y, metric, size=20, costs=costs, max_cost=[0.5, 0.2])
    np.testing.assert_allclose(fallback, [0.0, 0.0, 1.0])  # nothing fits: the least over its limits


def _one_good_model_and_lookalikes(n=80, k=40, seed=0):
    """A good model, and ``k`` models that make its errors plus their own: none is better in expectation,
    and every average with them is worse, but on ``n`` rows some happen to cancel a part of its errors."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    good = y + rng.normal(scale=0.5, size=n)
    return [good] + [good + rng.normal(scale=0.5, size=n) for _ in range(k)], y


def test_cross_validated_size_keeps_the_good_model_where_the_path_fits_noise():
    preds, y = _one_good_model_and_lookalikes()
    rmse = get_metric("rmse", "regression")
    plain = ensemble_selection(preds, y, rmse, size=50)
    assert plain[0] < 0.9  # the in-sample path does join lookalikes: the case the option is for
    honest = ensemble_selection(preds, y, rmse, size=50, size_cv=5)
    assert honest[0] == 1.0


@pytest.mark.parametrize("make", [_complementary_regression, _complementary_binary])
def test_cross_validated_size_keeps_a_real_ensemble(make):
    preds, y = make()
    metric = get_metric("rmse" if preds[0].ndim == 1 else "log_loss", "regression" if preds[0].ndim == 1 else "binary")
    weights = ensemble_selection(preds, y, metric, size=20, size_cv=5)
    assert weights[:2].min() >= 0.3 and weights[2] == 0.0


def test_cross_validated_size_needs_two_folds_and_no_bagging():
    preds, y = _complementary_regression(n=40)
    rmse = get_metric("rmse", "regression")
    with pytest.raises(ValueError, match="size_cv must be at least 2"):
        ensemble_selection(preds, y, rmse, size_cv=1)
    with pytest.raises(ValueError, match="needs bagging=False"):
        ensemble_selection(preds, y, rmse, size_cv=5, bagging=True)
