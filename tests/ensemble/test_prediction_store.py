import numpy as np
import pytest

from autolearn.ensemble.prediction_store import PredictionStore

SHAPE = (1000, 3)  # 12 kB as float32
KB = 1 / 1024


def _prediction(seed):
    return np.random.default_rng(seed).dirichlet(np.ones(3), size=SHAPE[0])


def test_spills_beyond_the_cap_and_reloads_identical_arrays(tmp_path):
    store = PredictionStore(memory_limit_mb=30 * KB, spill_dir=tmp_path)  # room for two
    originals = {t: _prediction(t) for t in range(5)}
    for t, p in originals.items():
        assert store.add(t, "family", loss=float(t), prediction=p)
    assert len(store) == 5
    assert [store.is_spilled(t) for t in range(5)] == [False, False, True, True, True]  # the best stay
    assert store.memory_mb <= 30 * KB
    assert len(list(store.folder.glob("*.npy"))) == 3
    for t, p in originals.items():
        got = store.get(t)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, p.astype(np.float32))
    assert isinstance(store.get(4), np.memmap)
    folder = store.folder
    store.close()
    assert not folder.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_better_prediction_evicts_the_worst_resident(tmp_path):
    store = PredictionStore(memory_limit_mb=30 * KB, spill_dir=tmp_path)
    store.add("a", "f", 0.5, _prediction(0))
    store.add("b", "f", 0.6, _prediction(1))
    store.add("c", "f", 0.1, _prediction(2))
    assert store.is_spilled("b") and not store.is_spilled("a") and not store.is_spilled("c")
    np.testing.assert_array_equal(store.get("b"), _prediction(1).astype(np.float32))
    store.close()


def test_drop_deletes_the_file_and_promotes_the_best_spilled(tmp_path):
    store = PredictionStore(memory_limit_mb=15 * KB, spill_dir=tmp_path)  # room for one
    for t in range(3):
        store.add(t, "f", float(t), _prediction(t))
    assert len(list(store.folder.glob("*.npy"))) == 2
    store.drop(0)
    assert 0 not in store and not store.is_spilled(1) and store.is_spilled(2)
    assert len(list(store.folder.glob("*.npy"))) == 1
    np.testing.assert_array_equal(store.get(1), _prediction(1).astype(np.float32))
    store.close()


def test_without_spill_dir_the_worst_are_dropped():
    store = PredictionStore(memory_limit_mb=30 * KB, spill_dir=None)
    kept = [store.add(t, "f", float(t), _prediction(t)) for t in (3, 1, 2)]
    assert kept == [True, True, True]  # 2 evicts 3, the worst
    assert store.candidates() == [1, 2]
    assert not store.add(9, "f", 9.0, _prediction(9))
    store.close()


def test_max_per_family_keeps_the_best_of_each_family():
    store = PredictionStore(memory_limit_mb=10, spill_dir=None, max_per_family=2)
    for t, (family, loss) in enumerate([("gbm", 0.3), ("gbm", 0.1), ("gbm", 0.2), ("knn", 0.5), ("gbm", 0.9)]):
        store.add(t, family, loss, _prediction(t))
    assert store.candidates() == [1, 2, 3]
    assert store.family(3) == "knn" and store.loss(1) == pytest.approx(0.1)


def test_candidates_best_first_per_family_then_overall():
    store = PredictionStore(memory_limit_mb=10, spill_dir=None)
    entries = [("gbm", 0.3), ("gbm", 0.1), ("rf", 0.2), ("rf", 0.25), ("knn", 0.5), ("gbm", 0.15)]
    for t, (family, loss) in enumerate(entries):
        store.add(t, family, loss, _prediction(t))
    assert store.candidates() == [1, 5, 2, 3, 0, 4]
    assert store.candidates(n_best_per_family=1) == [1, 2, 4]
    assert store.candidates(n_best_per_family=2, n_best=3) == [1, 5, 2]


def test_stored_predictions_are_private_read_only_float32_copies():
    store = PredictionStore(memory_limit_mb=10, spill_dir=None)
    p = _prediction(0)
    store.add(1, "f", 0.1, p)
    p[:] = 0
    got = store.get(1)
    assert got.dtype == np.float32 and got.sum() > 0
    with pytest.raises(ValueError):
        got[0, 0] = 1.0
    assert not store.add(2, "f", float("nan"), _prediction(1))
    with pytest.raises(ValueError, match="shape"):
        store.add(3, "f", 0.2, np.zeros((10, 3)))
    store.add(1, "f", 0.05, _prediction(5))  # re-adding replaces
    assert len(store) == 1 and store.loss(1) == pytest.approx(0.05)


def test_context_manager_cleans_up(tmp_path):
    with PredictionStore(memory_limit_mb=0, spill_dir=tmp_path / "spill") as store:
        store.add(1, "f", 0.1, _prediction(1))
        assert store.is_spilled(1)
    assert list((tmp_path / "spill").iterdir()) == []
    with pytest.raises(RuntimeError):
        store.add(2, "f", 0.1, _prediction(2))
