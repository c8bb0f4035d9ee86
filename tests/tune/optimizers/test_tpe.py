import numpy as np
import pytest

from autolearn.records import Status, TrialResult, TrialSpec
from autolearn.testing.optimizers import check_optimizer, conditional_objective, conditional_space, run
from autolearn.tune import space as spaces
from autolearn.tune.optimizers.tpe import TPE, _Parzen, default_gamma, default_weights, sqrt_gamma


def test_contract():
    check_optimizer(TPE)


@pytest.mark.parametrize("problem", ["quadratic", "mixed", "conditional"])
def test_beats_random_search(problem, beats_random):
    beats_random("tpe", problem)


def test_startup_design_then_model():
    opt = TPE(conditional_space(), seed=0, n_startup_trials=6)
    history = run(opt, conditional_objective, 12)
    origins = [spec.origin for spec, _ in history]
    assert origins[:6] == ["initial"] * 6
    assert set(origins[6:]) <= {"tpe", "random"} and "tpe" in origins[6:]
    assert history[0][0].config == spaces.default_config(conditional_space())


def test_ask_tell_round_trip_is_deterministic():
    def suggestions(seed):
        opt = TPE(conditional_space(), seed=seed, n_startup_trials=4)
        return [spaces.config_key(s.config) for s, _ in run(opt, conditional_objective, 15)]

    assert suggestions(3) == suggestions(3)
    assert suggestions(3) != suggestions(4)


def test_constant_liar_spreads_a_parallel_batch(problems):
    quadratic_space, quadratic = problems["quadratic"]
    opt = TPE(quadratic_space(), seed=0, n_startup_trials=5)
    run(opt, quadratic, 20)
    pending: list[TrialSpec] = []
    for i in range(6):
        s = opt.ask(pending)
        pending.append(TrialSpec(100 + i, dict(s.config)))
    keys = {spaces.config_key(p.config) for p in pending}
    assert len(keys) == 6
    X = np.array([[p.config[f"x{i}"] for i in range(4)] for p in pending])
    assert np.min(np.linalg.norm(X[:, None] - X[None], axis=2) + np.eye(6) * 99) > 1e-3


def test_learns_to_avoid_crashing_region():
    """Failed trials count as the worst loss, so the model steers away from where trials crash."""
    space = spaces.as_configspace({"x": ("float", 0.0, 1.0), "y": ("float", 0.0, 1.0)})
    opt = TPE(space, seed=0, n_startup_trials=8)
    proposals = []
    for i in range(60):
        s = opt.ask()
        x = s.config["x"]
        result = (TrialResult(i, Status.CRASHED) if x > 0.5
                  else TrialResult(i, Status.SUCCESS, ((x - 0.4) ** 2 + s.config["y"] ** 2,)))
        opt.tell(TrialSpec(i, dict(s.config)), result)
        proposals.append(x)
    assert np.mean(np.asarray(proposals[30:]) > 0.5) < 0.25


def test_foreign_history_skips_the_startup_design(problems):
    quadratic_space, quadratic = problems["quadratic"]
    space = quadratic_space()
    opt = TPE(space, seed=0, n_startup_trials=10)
    for i, config in enumerate(spaces.sample(space, 12, np.random.default_rng(1))):
        opt.tell(TrialSpec(i, config), TrialResult(i, Status.SUCCESS, (quadratic(config),)))
    assert opt.ask().origin == "tpe"


def test_gamma_and_weights():
    assert [default_gamma(n) for n in (1, 10, 11, 100, 1000)] == [1, 1, 2, 10, 25]
    assert sqrt_gamma(100) == 3
    w = default_weights(100)
    assert len(w) == 100 and w[-25:].tolist() == [1.0] * 25 and np.all(np.diff(w) >= 0) and w[0] < 0.1


def test_parzen_estimator_is_a_density():
    rng = np.random.default_rng(0)
    obs = rng.random((30, 2)) * 0.3 + 0.2
    obs[:, 1] = (np.floor(obs[:, 1] * 3) + 0.5) / 3  # a 3-way categorical in the unit cube
    pe = _Parzen(obs, np.ones(30), np.array([False, True]), np.array([np.inf, 3.0]), 1.0, "scott", True)
    grid = (np.arange(2000) + 0.5) / 2000
    mass = sum(np.exp(pe.log_pdf(np.column_stack([grid, np.full(2000, (c + 0.5) / 3)]))).mean() for c in range(3))
    assert mass == pytest.approx(1.0, abs=0.02)
    samples = pe.sample(rng, 4000)
    assert 0.25 < np.median(samples[:, 0]) < 0.45  # concentrated where the observations are
