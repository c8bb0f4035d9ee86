"""Checks every run-history storage must pass (run from tests/storage/), as scikit-learn's estimator checks.

``factory()`` must return a new, empty storage each call. ``reopen(storage)``, when given, returns a second
storage over the same data (another connection to the same file or database) to check that what was written
is really kept. Each check is a plain function so tests can parametrize over :data:`CHECKS` and name the
failing one.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from autolearn.records import Limits, Status, Suggestion, TrialRecord, TrialResult
from autolearn.storage._base import Storage, StudyExistsError, StudyInfo, StudyNotFoundError

Factory = Callable[[], Storage]
Reopen = Callable[[Storage], Storage]

CONFIG = {"model": "tree", "depth": 7, "lr": 0.1, "one": 1.0, "big": 2**40, "use": True, "off": False,
          "none": None, "neg": -3, "tiny": 5e-324, "unicode": "é✓"}
INFO = {"scores": [0.5, math.inf, -math.inf, math.nan], "nested": {"a": {"b": [1, 2.0, "x", None, True]}},
        "memory_mb": 12.5, "folds": 5, "empty": {}, "note": ""}
SUGGESTION = Suggestion(CONFIG, budget=0.25, instance="fold-2", origin="tpe", parent=3)
LIMITS = Limits(wall_time=30.0, memory_mb=2048.0)


def same(a: Any, b: Any) -> bool:
    """Equal with exact types (``1 != 1.0 != True``) and NaN equal to NaN: what a round trip must preserve."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def _assert_same(got: Any, want: Any, what: str) -> None:
    assert same(got, want), f"{what} did not round-trip: stored {want!r}, read {got!r}"


def _raises(exc: type[BaseException], fn: Callable[[], Any], *fragments: str) -> BaseException:
    try:
        fn()
    except exc as e:
        for fragment in fragments:
            assert fragment in str(e), f"{type(e).__name__} message {str(e)!r} does not mention {fragment!r}"
        return e
    raise AssertionError(f"expected {exc.__name__}")


def _result(trial_id: int, status: Status = Status.SUCCESS, values: tuple[float, ...] = (0.5,), **kw: Any) -> TrialResult:
    return TrialResult(trial_id, status, values, **kw)


def _one_study(factory: Factory, name: str = "s") -> Storage:
    storage = factory()
    storage.create_study(name, ("minimize",))
    return storage


def check_empty(factory: Factory) -> None:
    storage = factory()
    assert storage.study_names() == [], "a new storage must have no studies"
    storage.close()


def check_create_and_get_study(factory: Factory) -> None:
    storage = factory()
    meta = {"space": {"x": [0, 1.5]}, "task": "binary", "inf": math.inf}
    info = storage.create_study("first", ("minimize", "maximize"), meta)
    assert isinstance(info, StudyInfo) and info.name == "first" and info.directions == ("minimize", "maximize")
    _assert_same(info.meta, meta, "study meta")
    got = storage.get_study("first")
    assert got.directions == ("minimize", "maximize") and isinstance(got.directions, tuple)
    _assert_same(got.meta, meta, "study meta")
    assert storage.create_study("second", ("maximize",)).meta == {}
    assert storage.study_names() == ["first", "second"], "study_names must list studies in creation order"


def check_study_exists(factory: Factory) -> None:
    storage = factory()
    storage.create_study("s", ("minimize",), {"v": 1})
    _raises(StudyExistsError, lambda: storage.create_study("s", ("minimize",)), "s")
    loaded = storage.create_study("s", ("minimize",), {"v": 2}, load_if_exists=True)
    assert loaded.meta == {"v": 1}, "load_if_exists returns the stored study, meta unchanged"
    _raises(ValueError, lambda: storage.create_study("s", ("maximize",), load_if_exists=True), "directions")
    assert storage.study_names() == ["s"]


def check_invalid_study(factory: Factory) -> None:
    storage = factory()
    for bad in [(), ("min",), ("minimize", "up")]:
        _raises(ValueError, lambda bad=bad: storage.create_study("bad", bad), "directions")
    for name in ["", None, 3, "x" * 513]:
        _raises(ValueError, lambda name=name: storage.create_study(name, ("minimize",)), "name")
    assert storage.study_names() == []
    assert storage.create_study("maximize", "maximize").directions == ("maximize",), "a bare string is one objective"


def check_study_not_found(factory: Factory) -> None:
    storage = factory()
    storage.create_study("there", ("minimize",))
    calls = {
        "get_study": lambda: storage.get_study("missing"),
        "update_meta": lambda: storage.update_meta("missing", {"a": 1}),
        "add_trial": lambda: storage.add_trial("missing", SUGGESTION, 0, LIMITS),
        "set_result": lambda: storage.set_result("missing", _result(0)),
        "trials": lambda: storage.trials("missing"),
        "n_trials": lambda: storage.n_trials("missing"),
        "running": lambda: storage.running("missing"),
        "trial": lambda: storage.trial("missing", 0),
    }
    for name, call in calls.items():
        try:
            _raises(StudyNotFoundError, call, "missing", "there")
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from None


def check_update_meta(factory: Factory) -> None:
    storage = factory()
    storage.create_study("s", ("minimize",), {"keep": 1, "replace": "old"})
    storage.update_meta("s", {"replace": "new", "model_path": "/tmp/m.pkl", "loss": math.nan})
    _assert_same(storage.get_study("s").meta, {"keep": 1, "replace": "new", "model_path": "/tmp/m.pkl",
                                               "loss": math.nan}, "merged meta")


def check_trial_ids(factory: Factory) -> None:
    storage = factory()
    storage.create_study("a", ("minimize",))
    storage.create_study("b", ("minimize",))
    assert [storage.add_trial("a", SUGGESTION, i, LIMITS).trial_id for i in range(3)] == [0, 1, 2]
    assert storage.add_trial("b", SUGGESTION, 0, LIMITS).trial_id == 0, "trial ids are counted per study"
    assert [r.spec.trial_id for r in storage.trials("a")] == [0, 1, 2]
    assert len(storage.trials("b")) == 1


def check_spec_round_trip(factory: Factory) -> None:
    """The returned spec and the stored one equal what was asked for, with exact types."""
    storage = _one_study(factory)
    cases = [(SUGGESTION, 2**33, LIMITS), (Suggestion({}), 0, Limits())]
    returned = [storage.add_trial("s", suggestion, seed, limits) for suggestion, seed, limits in cases]
    stored = [record.spec for record in storage.trials("s")]
    for (suggestion, seed, limits), *specs in zip(cases, returned, stored):
        for spec in specs:
            _assert_same(dict(spec.config), dict(suggestion.config), "config")
            assert (spec.budget, spec.instance, spec.seed, spec.limits, spec.origin, spec.parent) == (
                suggestion.budget, suggestion.instance, seed, limits, suggestion.origin, suggestion.parent), spec
            assert type(spec.budget) is float and type(spec.seed) is int
    assert all(record.result is None for record in storage.trials("s")), "a running trial has no result"


def check_result_round_trip(factory: Factory) -> None:
    storage = _one_study(factory)
    cases = [
        _result(0, values=(0.25, -1.5), duration=1.5, started=1.7e9, info=INFO, worker="host:1"),
        _result(0, values=(math.inf, math.nan, -math.inf), duration=math.nan, started=math.inf),
        _result(0, Status.FAILED, (), error="ValueError: boom\nTraceback ...", info={"traceback": "x"}),
        _result(0, Status.PRUNED, (0.75,)),
    ] + [_result(0, status, ()) for status in Status]
    for case in cases:
        spec = storage.add_trial("s", SUGGESTION, 0, LIMITS)
        storage.set_result("s", TrialResult(spec.trial_id, *[getattr(case, f) for f in
                                                             ("status", "values", "duration", "started", "error",
                                                              "info", "worker")]))
    for record, case in zip(storage.trials("s"), cases):
        got = record.result
        assert got is not None and got.trial_id == record.spec.trial_id
        assert got.status is case.status, f"status {case.status} read back as {got.status!r}"
        for field in ("values", "duration", "started", "error", "info", "worker"):
            _assert_same(getattr(got, field), getattr(case, field), f"result.{field}")


def check_result_once(factory: Factory) -> None:
    storage = _one_study(factory)
    spec = storage.add_trial("s", SUGGESTION, 0, LIMITS)
    storage.set_result("s", _result(spec.trial_id, values=(1.0,)))
    _raises(ValueError, lambda: storage.set_result("s", _result(spec.trial_id, values=(0.0,))), "already")
    assert storage.trials("s")[0].result.values == (1.0,), "a refused second result must not change the first"
    _raises(KeyError, lambda: storage.set_result("s", _result(99)), "99")
    _raises(KeyError, lambda: storage.set_result("s", _result(-1)))
    _raises(KeyError, lambda: storage.set_result("s", _result(2**40)))


def check_order_and_running(factory: Factory) -> None:
    storage = _one_study(factory)
    ids = [storage.add_trial("s", Suggestion({"i": i}), i, LIMITS).trial_id for i in range(6)]
    for trial_id in [4, 1, 5]:
        storage.set_result("s", _result(trial_id, values=(float(trial_id),)))
    records = storage.trials("s")
    assert all(isinstance(r, TrialRecord) for r in records)
    assert [r.spec.trial_id for r in records] == ids, "trials are returned in id order"
    assert [r.result is not None for r in records] == [False, True, False, False, True, True]
    assert [r.spec.config["i"] for r in records] == list(range(6))
    assert storage.n_trials("s") == 6
    assert [spec.trial_id for spec in storage.running("s")] == [0, 2, 3], "running: the trials with no result"
    assert storage.trial("s", 4).result.values == (4.0,) and storage.trial("s", 2).result is None
    assert storage.trial("s", 3).spec.config == {"i": 3}
    for missing in (-1, 6, 2**40):
        _raises(KeyError, lambda missing=missing: storage.trial("s", missing), "s", str(missing))


def check_records_are_copies(factory: Factory) -> None:
    """Callers (optimizers, reports) mutate what they get; the history must not change behind their back."""
    storage = _one_study(factory)
    config = {"x": 1, "tags": ["a"]}
    info = {"nested": {"k": 1}}
    spec = storage.add_trial("s", Suggestion(config), 0, LIMITS)
    config["x"] = 2
    config["tags"].append("b")
    spec.config["x"] = 3
    storage.set_result("s", _result(spec.trial_id, info=info))
    info["nested"]["k"] = 2
    first = storage.trials("s")[0]
    first.spec.config["tags"].append("c")
    first.result.info["nested"]["k"] = 3
    storage.trial("s", 0).spec.config["x"] = 4
    again = storage.trials("s")[0]
    assert again.spec.config == {"x": 1, "tags": ["a"]}, f"stored config changed: {again.spec.config}"
    assert again.result.info == {"nested": {"k": 1}}, f"stored info changed: {again.result.info}"
    meta = storage.get_study("s").meta
    meta["mutated"] = True
    assert "mutated" not in storage.get_study("s").meta


def check_numpy_scalars(factory: Factory) -> None:
    """ConfigSpace and metrics hand out numpy scalars; the history keeps plain Python types."""
    storage = _one_study(factory)
    config = {"i": np.int64(3), "f": np.float64(0.5), "f32": np.float32(0.25), "b": np.bool_(True),
              "s": np.str_("gini")}
    spec = storage.add_trial("s", Suggestion(config), np.int64(7), LIMITS)
    storage.set_result("s", _result(spec.trial_id, values=(np.float64(0.125),), info={"n": np.int32(4)}))
    record = storage.trials("s")[0]
    _assert_same(dict(record.spec.config), {"i": 3, "f": 0.5, "f32": 0.25, "b": True, "s": "gini"}, "numpy config")
    assert type(record.spec.seed) is int and record.spec.seed == 7
    _assert_same(record.result.values, (0.125,), "numpy values")
    _assert_same(record.result.info, {"n": 4}, "numpy info")


def check_unstorable_values(factory: Factory) -> None:
    """Refused at the call (TypeError), not half-written: the study is unchanged afterwards."""
    storage = _one_study(factory)
    _raises(TypeError, lambda: storage.add_trial("s", Suggestion({"f": object()}), 0, LIMITS), "config")
    _raises(TypeError, lambda: storage.add_trial("s", Suggestion({1: "x"}), 0, LIMITS), "key")
    spec = storage.add_trial("s", SUGGESTION, 0, LIMITS)
    _raises(TypeError, lambda: storage.set_result("s", _result(spec.trial_id, info={"model": object()})), "info")
    _raises(TypeError, lambda: storage.update_meta("s", {"x": {2: 1}}), "key")
    assert len(storage.trials("s")) == 1 and storage.trials("s")[0].result is None
    storage.set_result("s", _result(spec.trial_id))


def check_threads(factory: Factory, n_threads: int = 4, per_thread: int = 10) -> None:
    """Threads of one process (a local runner's callbacks) get distinct ids and lose no result."""
    storage = _one_study(factory)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(per_thread):
                spec = storage.add_trial("s", Suggestion({"k": k, "i": i}), i, LIMITS)
                storage.set_result("s", _result(spec.trial_id, values=(float(spec.trial_id),)))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, f"concurrent writers failed: {errors[0]!r}"
    records = storage.trials("s")
    assert [r.spec.trial_id for r in records] == list(range(n_threads * per_thread))
    assert all(r.result is not None and r.result.values == (float(r.spec.trial_id),) for r in records)
    assert {(r.spec.config["k"], r.spec.config["i"]) for r in records} == {
        (k, i) for k in range(n_threads) for i in range(per_thread)}


def check_close(factory: Factory) -> None:
    storage = factory()
    storage.close()


CHECKS: tuple[Callable[[Factory], None], ...] = (
    check_empty, check_create_and_get_study, check_study_exists, check_invalid_study, check_study_not_found,
    check_update_meta, check_trial_ids, check_spec_round_trip, check_result_round_trip, check_result_once,
    check_order_and_running, check_records_are_copies, check_numpy_scalars, check_unstorable_values,
    check_threads, check_close,
)


def check_persistence(factory: Factory, reopen: Reopen) -> None:
    """What one storage wrote, another over the same data reads back, and it continues the id sequence."""
    storage = factory()
    storage.create_study("s", ("minimize",), {"m": math.inf})
    spec = storage.add_trial("s", SUGGESTION, 1, LIMITS)
    storage.set_result("s", _result(spec.trial_id, values=(math.nan,), info=INFO))
    storage.add_trial("s", SUGGESTION, 2, LIMITS)
    storage.close()
    other = reopen(storage)
    assert other.study_names() == ["s"]
    _assert_same(other.get_study("s").meta, {"m": math.inf}, "meta after reopening")
    records = other.trials("s")
    assert [r.spec.trial_id for r in records] == [0, 1] and records[1].result is None
    _assert_same(dict(records[0].spec.config), CONFIG, "config after reopening")
    _assert_same(records[0].result.info, INFO, "info after reopening")
    assert other.add_trial("s", SUGGESTION, 3, LIMITS).trial_id == 2
    other.set_result("s", _result(1))
    other.close()


def check_storage(factory: Factory, reopen: Reopen | None = None) -> None:
    """Run every check; ``reopen`` adds the persistence check for storages that keep data."""
    for check in CHECKS:
        check(factory)
    if reopen is not None:
        check_persistence(factory, reopen)
