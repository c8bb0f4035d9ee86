import numpy as np
import pytest
from ConfigSpace import (
    Categorical,
    Configuration,
    ConfigurationSpace,
    EqualsCondition,
    Float,
    ForbiddenAndConjunction,
    ForbiddenEqualsClause,
    Integer,
    NotEqualsCondition,
    OrConjunction,
)

from autolearn.testing.optimizers import conditional_space
from autolearn.tune import space as spaces
from autolearn.tune.optimizers._encoding import INACTIVE_TREE, SpaceEncoder, keys


def nested_space() -> ConfigurationSpace:
    """Nested conditions, a NotEquals condition, an OR conjunction and a forbidden clause."""
    cs = ConfigurationSpace(seed=0)
    algo = Categorical("algo", ["a", "b", "c"])
    kernel = Categorical("kernel", ["rbf", "poly", "linear"])
    degree = Integer("degree", (2, 5))
    gamma = Float("gamma", (1e-3, 10.0), log=True)
    lr = Float("lr", (0.0, 1.0))
    cs.add([algo, kernel, degree, gamma, lr])
    cs.add([
        EqualsCondition(kernel, algo, "a"),
        EqualsCondition(degree, kernel, "poly"),
        NotEqualsCondition(gamma, kernel, "linear"),
        OrConjunction(EqualsCondition(lr, algo, "b"), EqualsCondition(lr, algo, "c")),
    ])
    cs.add(ForbiddenAndConjunction(ForbiddenEqualsClause(kernel, "poly"), ForbiddenEqualsClause(degree, 5)))
    return cs


@pytest.mark.parametrize("make_space", [conditional_space, nested_space])
def test_round_trip_and_validity(make_space):
    space = make_space()
    enc = SpaceEncoder(space)
    configs = spaces.sample(space, 200, np.random.default_rng(0))
    X = enc.encode(configs)
    assert np.array_equal(np.isnan(X), np.isnan(enc.encode(enc.decode(X))))
    for original, back in zip(configs, enc.decode(X)):
        assert original.keys() == back.keys()
        for k, v in original.items():
            assert v == pytest.approx(back[k]) if isinstance(v, float) else v == back[k]
    for config in enc.decode(enc.sample(300, np.random.default_rng(1))):
        spaces.to_configuration(space, config)  # raises on an inactive value, a missing one or a forbidden


def test_activity_and_forbiddens_agree_with_configspace():
    space = nested_space()
    enc = SpaceEncoder(space)
    X = enc.sample(500, np.random.default_rng(0))
    assert not np.any(enc.forbidden(X))
    for row in X:  # ConfigSpace's own check: every active value set, no inactive one, nothing forbidden
        Configuration(space, vector=row).check_valid_configuration()
    full = enc.from_unit(np.random.default_rng(1).random((300, enc.n_dims)))
    ours = np.isnan(enc.deactivate(full))
    for row, inactive in zip(full, ours):
        reference = set(space.get_active_hyperparameters(Configuration(space, vector=enc.deactivate(row[None])[0])))
        assert reference == {n for n, off in zip(enc.names, inactive) if not off}


def test_from_unit_gives_integers_and_categories_equal_mass():
    space = spaces.as_configspace({"k": ("int", 1, 4), "c": ["a", "b", "c"]})
    enc = SpaceEncoder(space)
    X = enc.from_unit(np.random.default_rng(0).random((12000, 2)))
    k, c = enc.names.index("k"), enc.names.index("c")
    counts_k = np.unique(X[:, k], return_counts=True)[1]
    counts_c = np.unique(X[:, c], return_counts=True)[1]
    assert len(counts_k) == 4 and counts_k.min() > 0.9 * 3000
    assert len(counts_c) == 3 and counts_c.min() > 0.9 * 4000


def test_groups_merge_equivalent_conditions():
    enc = SpaceEncoder(conditional_space())
    by_name = [{enc.names[j] for j in g} for g in enc.groups]
    assert by_name[0] == {"model", "x"}
    assert {"knn:k", "knn:weights"} in by_name  # an InCondition and an EqualsCondition on the same branch


def test_model_features_mark_inactive_explicitly():
    space = conditional_space()
    enc = SpaceEncoder(space)
    X = enc.encode([
        {"model": "tree", "x": 0.0, "tree:depth": 8, "tree:min_leaf": 0.1},
        {"model": "knn", "x": 0.0, "knn:k": 5, "knn:weights": "distance"},
    ])
    T = enc.tree_features(X)
    assert T.dtype == np.float32 and (T == INACTIVE_TREE).any(axis=1).all()
    n_cols, scale_index = enc.gp_layout()
    G = enc.gp_features(X)
    assert G.shape == (2, n_cols) == (2, len(scale_index))
    assert np.all((G >= 0) & (G <= 1))
    indicators = G[:, -(len(enc.groups) - 1):]
    assert indicators.sum(axis=1).tolist() == [1.0, 1.0]  # exactly one branch active per row
    assert not np.array_equal(indicators[0], indicators[1])


def test_neighbours_change_one_thing_and_stay_valid():
    space = conditional_space()
    enc = SpaceEncoder(space)
    rng = np.random.default_rng(0)
    X = enc.sample(20, rng)
    N, parent = enc.neighbours(X, 10, rng)
    assert len(N) == len(parent) > 0
    for x, n in zip(X[parent], N):
        same_activity = np.isnan(x) == np.isnan(n)
        changed = np.flatnonzero(same_activity & ~np.isnan(x) & ~np.isclose(x, n))
        assert len(changed) <= 1 or not same_activity.all()
    for config in enc.decode(N):
        spaces.to_configuration(space, config)
    assert len(set(keys(N))) > 0.8 * len(N)
