import numpy as np
import pytest

from autolearn.records import Status, TrialResult, TrialSpec
from autolearn.testing.optimizers import check_optimizer, conditional_objective, conditional_space, run
from autolearn.tune import space as spaces
from autolearn.tune.optimizers._encoding import SpaceEncoder
from autolearn.tune.optimizers.smac_rf import RandomForestBO, fit_forest


def test_contract():
    check_optimizer(RandomForestBO)


@pytest.mark.parametrize("problem", ["quadratic", "mixed", "conditional"])
def test_beats_random_search(problem, beats_random):
    beats_random("rf", problem)


def test_forest_mean_and_spread():
    rng = np.random.default_rng(0)
    X = rng.random((200, 2)).astype(np.float32)
    y = np.sin(6 * X[:, 0]) + X[:, 1]
    forest = fit_forest(X, y, n_trees=10, min_samples_leaf=1, max_features=1.0, extra_trees=True, seed=0)
    mu, sd = forest.predict(X)
    assert np.corrcoef(mu, y)[0, 1] > 0.95
    assert np.all(sd >= 0)
    far = forest.predict(np.array([[0.5, 0.5]], dtype=np.float32))[1]
    assert far > 0  # bootstrap trees disagree between data points


def test_initial_design_then_model_then_interleaved_random():
    opt = RandomForestBO(conditional_space(), seed=0, n_initial=6, random_fraction=0.25)
    history = run(opt, conditional_objective, 40)
    origins = [s.origin for s, _ in history]
    assert origins[:6] == ["initial"] * 6
    assert history[0][0].config == spaces.default_config(conditional_space())
    rest = origins[6:]
    assert rest.count("rf") > 20 and 2 <= rest.count("random") <= 16


def test_pending_trials_are_never_proposed_again():
    space = spaces.as_configspace({"a": ["x", "y", "z"], "b": ["u", "v"], "c": ("int", 1, 3)})
    opt = RandomForestBO(space, seed=0, n_initial=3, random_fraction=0.0)
    run(opt, lambda c: float(c["c"]) + (c["a"] == "x"), 6)
    pending: list[TrialSpec] = []
    seen = {spaces.config_key(s.config) for s, _ in opt.history}
    for i in range(8):
        s = opt.ask(pending)
        key = spaces.config_key(s.config)
        assert key not in seen
        seen.add(key)
        pending.append(TrialSpec(100 + i, dict(s.config)))


def test_kriging_believer_keeps_a_batch_apart(problems):
    space_fn, objective = problems["quadratic"]
    opt = RandomForestBO(space_fn(), seed=0, random_fraction=0.0)
    run(opt, objective, 25)
    pending: list[TrialSpec] = []
    for i in range(5):
        s = opt.ask(pending)
        pending.append(TrialSpec(100 + i, dict(s.config)))
    X = np.array([[p.config[f"x{i}"] for i in range(4)] for p in pending])
    assert np.min(np.linalg.norm(X[:, None] - X[None], axis=2) + np.eye(5) * 99) > 1e-6


def test_foreign_and_failed_trials_shape_the_model():
    space = spaces.as_configspace({"x": ("float", 0.0, 1.0), "y": ("float", 0.0, 1.0)})
    opt = RandomForestBO(space, seed=0, random_fraction=0.0)
    rng = np.random.default_rng(0)
    for i, config in enumerate(spaces.sample(space, 30, rng)):  # a warm start nobody asked for
        crashed = config["x"] > 0.5
        result = (TrialResult(i, Status.CRASHED) if crashed
                  else TrialResult(i, Status.SUCCESS, ((config["x"] - 0.3) ** 2 + config["y"] ** 2,)))
        opt.tell(TrialSpec(i, config), result)
    xs = [opt.ask().config["x"] for _ in range(1)]
    for i in range(15):
        s = opt.ask()
        opt.tell(TrialSpec(100 + i, dict(s.config)),
                 TrialResult(100 + i, Status.SUCCESS, ((s.config["x"] - 0.3) ** 2 + s.config["y"] ** 2,)))
        xs.append(s.config["x"])
    assert np.mean(np.asarray(xs) <= 0.5) > 0.8


@pytest.mark.parametrize("acquisition", ["ei", "ucb"])
@pytest.mark.parametrize("y_transform", ["none", "copula"])
def test_options(acquisition, y_transform):
    opt = RandomForestBO(conditional_space(), seed=0, acquisition=acquisition, y_transform=y_transform, n_initial=5)
    history = run(opt, conditional_objective, 12, batch=2)
    enc = SpaceEncoder(conditional_space())
    enc.encode([s.config for s, _ in history])  # every proposal is a valid configuration


def test_bad_options_fail_early():
    with pytest.raises(ValueError, match="acquisition"):
        RandomForestBO(conditional_space(), acquisition="pi")
    with pytest.raises(ValueError, match="random_fraction"):
        RandomForestBO(conditional_space(), random_fraction=1.5)
    with pytest.raises(ValueError, match="y_transform"):
        RandomForestBO(conditional_space(), y_transform="sqrt")
