import zlib
from collections import Counter

import numpy as np
import pytest

from autolearn.records import Status, TrialResult, TrialSpec
from autolearn.testing.optimizers import check_optimizer, conditional_objective, conditional_space, run
from autolearn.tune import create_study, load_study
from autolearn.tune import space as spaces
from autolearn.tune.intensify import Intensifier
from autolearn.tune.optimizers.grid_search import GridSearch
from autolearn.tune.optimizers.random_search import RandomSearch
from autolearn.tune.optimizers.tpe import TPE

SPACE = spaces.as_configspace({"x": ("float", 0.0, 1.0)}, seed=0)
FOUR = ["a", "b", "c", "d"]
OFFSET = {"a": 0.0, "b": 0.01, "c": 0.02, "d": 0.03, "e": 0.04}


def scripted(xs, instances=FOUR, **kwargs):
    """An intensifier whose sampler proposes ``xs`` first, in order, then random configurations."""
    sampler = RandomSearch(SPACE, seed=0, initial_design=[{"x": x} for x in xs], default_first=False)
    return Intensifier(SPACE, instances, sampler=sampler, seed=0, **kwargs)


class Driver:
    """Asks and tells one trial at a time (or a batch) with ``loss(x, instance)``."""

    def __init__(self, opt, loss=lambda x, inst: x + OFFSET[inst]):
        self.opt, self.loss, self.next_id, self.specs = opt, loss, 0, []

    def ask(self, pending=()):
        s = self.opt.ask(list(pending))
        if s is None:
            return None
        spec = TrialSpec(self.next_id, dict(s.config), s.budget, s.instance, origin=s.origin)
        self.next_id += 1
        self.specs.append(spec)
        return spec

    def tell(self, spec, status=Status.SUCCESS):
        values = (self.loss(spec.config["x"], spec.instance),) if status is Status.SUCCESS else ()
        self.opt.tell(spec, TrialResult(spec.trial_id, status, values, duration=1.0))

    def step(self, status=Status.SUCCESS):
        spec = self.ask()
        self.tell(spec, status)
        return spec

    def runs_of(self, x):
        return [s for s in self.specs if s.config["x"] == x]


def incumbent_x(opt):
    return opt.incumbent()[0]["x"]


def test_worse_challenger_is_raced_out_after_one_run():
    d = Driver(scripted([0.2, 0.8, 0.9]))
    first = d.step()
    assert incumbent_x(d.opt) == 0.2 and first.instance in FOUR
    challenger = d.step()
    assert challenger.config["x"] == 0.8 and challenger.instance == first.instance  # on an incumbent's instance
    roles = {(r["config"]["x"], r["role"]) for r in d.opt.race_table()}
    assert roles == {(0.2, "incumbent"), (0.8, "rejected")}
    for _ in range(6):
        d.step()
    assert len(d.runs_of(0.8)) == 1  # never run again
    # the sampler heard of each decided configuration once, aggregated, with instance=None
    told = [(s.config["x"], s.instance, r.loss) for s, r in d.opt.sampler.history]
    assert told[:2] == [(0.2, None, pytest.approx(0.2 + OFFSET[first.instance])),
                        (0.8, None, pytest.approx(0.8 + OFFSET[first.instance]))]
    assert max(Counter(x for x, _, _ in told).values()) == 1


def test_better_challenger_wins_only_after_all_incumbent_instances():
    d = Driver(scripted([0.5, 0.9, 0.95, 0.97, 0.1]))
    for _ in range(7):  # 0.5 becomes incumbent and earns one instance per rejected challenger
        d.step()
    assert incumbent_x(d.opt) == 0.5 and len(d.opt.incumbent()[1]) == 4
    for i in range(4):
        spec = d.step()
        assert spec.config["x"] == 0.1
        assert incumbent_x(d.opt) == (0.1 if i == 3 else 0.5)
    assert sorted(s.instance for s in d.runs_of(0.1)) == FOUR
    roles = {r["config"]["x"]: r["role"] for r in d.opt.race_table()}
    assert roles == {0.5: "retired", 0.9: "rejected", 0.95: "rejected", 0.97: "rejected", 0.1: "incumbent"}
    assert d.opt.best() == ({"x": 0.1}, pytest.approx(0.1 + np.mean(list(OFFSET.values())[:4])))


def test_challenger_is_judged_on_the_mean_of_shared_instances():
    """Good on average but bad on one instance (its second run): the race goes on and it wins."""
    count = Counter()

    def loss(x, inst):
        if x != 0.3:
            return 1.0 if x == 0.5 else 2.0
        count[x] += 1
        return 1.2 if count[x] == 2 else 0.5

    d = Driver(scripted([0.5, 0.9, 0.8, 0.7, 0.3]), loss)
    for _ in range(7):
        d.step()
    assert incumbent_x(d.opt) == 0.5 and len(d.opt.incumbent()[1]) == 4
    for _ in range(4):
        d.step()
    assert incumbent_x(d.opt) == 0.3 and d.opt.incumbent()[1] == pytest.approx(
        {s.instance: (1.2 if i == 1 else 0.5) for i, s in enumerate(d.runs_of(0.3))})


def test_challenger_runs_double_and_parallel_workers_get_other_challengers():
    d = Driver(scripted([0.5, 0.9, 0.95, 0.97, 0.1, 0.6, 0.7, 0.8]))
    for _ in range(7):
        d.step()
    assert len(d.opt.incumbent()[1]) == 4
    batches = []
    for _ in range(3):  # ask until a new challenger starts (0.1 waits on its pending runs), then tell
        pending = [d.ask()]
        while pending[-1].config["x"] == 0.1:
            pending.append(d.ask(pending))
        batches.append(len(pending) - 1)
        assert len({(s.config["x"], s.instance) for s in pending}) == len(pending)
        for s in pending:
            d.tell(s)
    assert batches == [1, 1, 2]  # 1, 2, 4 runs in total
    assert incumbent_x(d.opt) == 0.1


def test_incumbent_runs_on_more_instances_over_time():
    five = list(OFFSET)
    d = Driver(scripted([0.0], instances=five))  # then random challengers, all worse than x=0
    counts = []
    for _ in range(20):
        d.step()
        counts.append(len(d.opt.incumbent()[1]))
    assert counts == sorted(counts) and counts[0] == 1 and counts[-1] == 5
    capped = Driver(scripted([0.0], instances=five, max_incumbent_runs=3))
    for _ in range(20):
        capped.step()
    assert len(capped.opt.incumbent()[1]) == 3
    assert all(len(set(runs)) == 1 for runs in [[r["role"] for r in capped.opt.race_table() if r["key"] == k]
                                                 for k in {r["key"] for r in capped.opt.race_table()}])


def test_failed_runs_count_as_worst_loss():
    d = Driver(scripted([0.5, 0.1]))
    d.step()
    d.step(status=Status.CRASHED)  # 0.1 would have won, but it crashed
    assert incumbent_x(d.opt) == 0.5
    row = next(r for r in d.opt.race_table() if r["config"]["x"] == 0.1)
    assert row["role"] == "rejected" and row["loss"] is None and row["status"] == "crashed"
    spec, result = d.opt.sampler.history[-1]
    assert spec.instance is None and result.status is Status.CRASHED and not result.values


def test_exhausted_sampler_finishes_the_incumbent_then_stops():
    space = spaces.as_configspace({"k": ["p", "q"]}, seed=0)
    opt = Intensifier(space, FOUR, sampler=GridSearch(space, seed=0), seed=0)
    n = 0
    while (s := opt.ask()) is not None:
        value = OFFSET[s.instance] + (0.0 if s.config["k"] == "p" else 1.0)
        opt.tell(TrialSpec(n, s.config, instance=s.instance), TrialResult(n, Status.SUCCESS, (value,)))
        n += 1
        assert n < 20
    assert opt.incumbent()[0] == {"k": "p"} and sorted(opt.incumbent()[1]) == FOUR
    assert n == 5  # q raced out on one instance, p run on all four


def test_optimizer_contract():
    check_optimizer(lambda space, seed: Intensifier(space, FOUR, seed=seed))
    check_optimizer(lambda space, seed: Intensifier(space, FOUR, seed=seed, sampler=TPE(space, seed=seed)))
    history = run(Intensifier(conditional_space(), FOUR, seed=0), conditional_objective, 40, batch=3)
    assert all(s.instance in FOUR and 0 < s.budget <= 1 for s, _ in history)
    pairs = [(spaces.config_key(s.config), s.instance) for s, _ in history]
    assert len(set(pairs)) == len(pairs)  # no (config, instance) twice, parallel or not


def test_enqueued_and_foreign_trials():
    opt = Intensifier(SPACE, FOUR, seed=0)
    opt.enqueue([{"x": 0.25}])
    foreign = TrialSpec(99, {"x": 0.7})  # an aggregated warm start: the sampler's, not a race
    opt.tell(foreign, TrialResult(99, Status.SUCCESS, (0.7,)))
    assert opt.race_table() == [] and opt.sampler.history[-1][0] is foreign
    first = opt.ask()  # the default configuration, queued by the random sampler at construction
    second = opt.ask([TrialSpec(0, first.config, instance=first.instance)])
    assert second.config == {"x": 0.25} and second.instance == first.instance
    with pytest.raises(ValueError, match="distinct strings"):
        Intensifier(SPACE, ["a", "a"])
    with pytest.raises(ValueError, match="max_incumbent_runs"):
        Intensifier(SPACE, FOUR, max_incumbent_runs=5)


# -- studies -----------------------------------------------------------------------------------

INSTANCES = ["0", "1", "2", "3", "4"]


def true_mean(x):
    return (x - 0.3) ** 2


def noisy_loss(x, instance):
    """``true_mean(x)`` plus per-instance noise that averages to exactly zero over the five instances."""
    rng = np.random.default_rng(zlib.crc32(repr(float(x)).encode()))
    noise = rng.normal(0.0, 0.3, len(INSTANCES))
    return true_mean(x) + noise[int(instance)] - noise.mean()


def per_instance(trial):
    return noisy_loss(trial["x"], trial.instance)


def test_study_with_instances_beats_single_instance_random_search():
    space = {"x": ("float", 0.0, 1.0)}
    wins, ours, theirs = 0, [], []
    for seed in range(20):
        study = create_study(space, "random", seed=seed, instances=INSTANCES)
        study.optimize(per_instance, n_trials=60, isolate=False)
        config, value, n = study.incumbent()
        assert n == 5 and value == pytest.approx(true_mean(config["x"]))  # all 5 instances: the exact mean
        baseline = create_study(space, "random", seed=seed)
        baseline.optimize(lambda t: noisy_loss(t["x"], str(t.seed % 5)), n_trials=60, isolate=False)
        ours.append(true_mean(config["x"]))
        theirs.append(true_mean(baseline.best_config["x"]))
        wins += ours[-1] < theirs[-1]
    assert wins >= 13 and np.mean(ours) < np.mean(theirs) / 2


def test_study_incumbent_orientation_and_fallback():
    study = create_study({"x": ("float", 0.0, 1.0)}, "random", seed=0, instances=INSTANCES, directions="maximize")
    study.optimize(lambda t: -per_instance(t), n_trials=20, isolate=False)
    config, value, n = study.incumbent()
    assert all(t.instance in INSTANCES for t in study.trials)
    losses = study.optimizer.incumbent()[1]
    assert value == pytest.approx(-np.mean(list(losses.values()))) and n == len(losses)
    plain = create_study({"x": ("float", 0.0, 1.0)}, "random", seed=0).optimize(
        lambda t: t["x"], n_trials=5, isolate=False)
    assert plain.incumbent() == (plain.best_config, plain.best_value, 1)
    with pytest.raises(ValueError, match="no incumbent"):
        create_study({"x": ("float", 0.0, 1.0)}, "random", instances=INSTANCES).incumbent()
    with pytest.raises(ValueError, match="instances and scheduler"):
        create_study({"x": ("float", 0.0, 1.0)}, "random", instances=INSTANCES, scheduler="asha")


def test_load_study_rebuilds_the_race_and_continues(tmp_path):
    path = str(tmp_path / "runs.sqlite")
    study = create_study({"x": ("float", 0.0, 1.0)}, "tpe", storage=path, name="inst", seed=0, instances=INSTANCES)
    study.optimize(per_instance, n_trials=25, isolate=False)
    loaded = load_study(path, "inst")
    assert isinstance(loaded.optimizer, Intensifier) and loaded.optimizer.instances == tuple(INSTANCES)
    assert loaded.incumbent() == study.incumbent()
    assert loaded.optimizer.race_table() == study.optimizer.race_table()
    loaded.optimize(per_instance, n_trials=15, isolate=False)
    again = create_study({"x": ("float", 0.0, 1.0)}, "tpe", storage=path, name="inst", seed=0,
                         instances=INSTANCES, load_if_exists=True)
    assert len(again.trials) == 40 and isinstance(again.optimizer, Intensifier)
    pairs = [(spaces.config_key(t.config), t.instance) for t in again.trials]
    assert len(set(pairs)) == len(pairs) and all(t.instance in INSTANCES for t in again.trials)
    assert again.incumbent()[2] >= study.incumbent()[2]
