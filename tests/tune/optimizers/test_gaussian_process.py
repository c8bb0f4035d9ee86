import numpy as np
import pytest

from autolearn.records import TrialSpec
from autolearn.testing.optimizers import check_optimizer, conditional_objective, conditional_space, run
from autolearn.tune import space as spaces
from autolearn.tune.optimizers.gaussian_process import GaussianProcess, GaussianProcessBO


def test_contract():
    check_optimizer(GaussianProcessBO)


@pytest.mark.parametrize("problem", ["quadratic", "mixed", "conditional"])
def test_beats_random_search(problem, beats_random):
    beats_random("gp", problem)


def test_gp_fits_a_smooth_function_and_knows_where_it_is_unsure():
    rng = np.random.default_rng(0)
    X = rng.random((25, 2))
    X[:, 1] *= 0.5  # no data in the upper half of the second input
    f = np.sin(5 * X[:, 0]) + 0.5 * X[:, 1]
    y = (f - f.mean()) / f.std()
    gp = GaussianProcess(np.array([0, 1]), 2)
    gp.fit_hyperparameters(X, y, rng)
    gp.condition(X, y)
    Xt = rng.random((200, 2)) * [1.0, 0.5]
    ft = (np.sin(5 * Xt[:, 0]) + 0.5 * Xt[:, 1] - f.mean()) / f.std()
    mu, sd = gp.predict(Xt)
    assert np.sqrt(np.mean((mu - ft) ** 2)) < 0.15
    assert gp.predict(np.array([[0.5, 1.0]]))[1][0] > 3 * np.median(sd)


def test_marginal_likelihood_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    F, y = rng.random((20, 3)), rng.normal(size=20)
    gp = GaussianProcess(np.array([0, 1, 1]), 2)
    S = np.stack([((F[:, None, gp.scale_index == g] - F[None, :, gp.scale_index == g]) ** 2).sum(2) for g in range(2)])
    theta = np.array([-0.3, 0.4, 0.2, -2.0])
    value, grad = gp._nll(theta, S, y)
    numeric = [(gp._nll(theta + h, S, y)[0] - gp._nll(theta - h, S, y)[0]) / 2e-6 for h in np.eye(4) * 1e-6]
    assert grad == pytest.approx(numeric, rel=1e-4, abs=1e-5)


@pytest.mark.parametrize("acquisition", ["ei", "ucb"])
def test_acquisition_options(acquisition, problems):
    space_fn, objective = problems["mixed"]
    bests = [min(r.loss for _, r in run(GaussianProcessBO(space_fn(), seed=s, acquisition=acquisition), objective, 30))
             for s in range(3)]
    assert np.median(bests) < 0.5  # random search's median is about 1.5 after 50 trials


def test_pending_fantasies_keep_a_batch_apart(problems):
    space_fn, objective = problems["quadratic"]
    opt = GaussianProcessBO(space_fn(), seed=0, random_fraction=0.0)
    run(opt, objective, 20)
    pending: list[TrialSpec] = []
    for i in range(5):
        s = opt.ask(pending)
        pending.append(TrialSpec(100 + i, dict(s.config)))
    X = np.array([[p.config[f"x{i}"] for i in range(4)] for p in pending])
    assert np.min(np.linalg.norm(X[:, None] - X[None], axis=2) + np.eye(5) * 99) > 0.05


def test_data_cap_keeps_best_and_recent():
    opt = GaussianProcessBO(conditional_space(), seed=0, max_data=20)
    y = np.arange(50, dtype=float)[::-1]  # later trials are better
    y[3] = -1.0  # and one early trial is the best of all
    keep = opt._select(y, 20)
    assert len(keep) == 20 and 3 in keep and 49 in keep and list(keep) == sorted(keep)


def test_hyperparameters_are_refit_rarely_on_long_runs():
    opt = GaussianProcessBO(conditional_space(), seed=0, refit_every=0.1, random_fraction=0.0)
    fits = []
    original = opt._gp.fit_hyperparameters

    def counting(*args, **kwargs):
        fits.append(len(opt.history))
        return original(*args, **kwargs)

    opt._gp.fit_hyperparameters = counting
    run(opt, conditional_objective, 60)
    gaps = np.diff(fits)
    assert len(fits) < 40 and gaps[-1] >= 4


def test_same_seed_same_suggestions_with_parallel_workers():
    def keys(seed):
        opt = GaussianProcessBO(conditional_space(), seed=seed)
        return [spaces.config_key(s.config) for s, _ in run(opt, conditional_objective, 16, batch=4)]

    assert keys(5) == keys(5)
