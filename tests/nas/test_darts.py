"""DARTS: discretization gives a valid cell architecture; the supernet search and its ask/tell face."""

from __future__ import annotations

import numpy as np
import pytest

from autolearn.nas.darts import DARTS, SUPERNET, discretize
from autolearn.nas.spaces import CELL_OPS, architecture, cell_edges, cell_genotype, make_space
from autolearn.records import Status, TrialResult, TrialSpec
from autolearn.tune import space as spaces


def test_discretize_keeps_the_two_strongest_edges_per_node():
    base = architecture({"n_nodes": 3}, "cell")
    edges = cell_edges(3)
    weights = np.full((len(edges), len(CELL_OPS)), 0.1)
    weights[:, CELL_OPS.index("zero")] = 0.9  # "zero" never wins an edge, however heavy
    strong = {(1, 0): "skip", (2, 1): "linear", (2, 0): "linear_tanh", (3, 2): "linear_relu", (3, 0): "skip"}
    for e, edge in enumerate(edges):
        if edge in strong:
            weights[e, CELL_OPS.index(strong[edge])] = 0.6
    weights[edges.index((3, 1)), CELL_OPS.index("linear")] = 0.2  # third strongest into node 3: dropped
    arch = discretize(weights, base)
    assert arch == architecture(arch, "cell")  # valid in the cell space
    genotype = cell_genotype(arch)
    assert {k: v for k, v in genotype.items() if v != "zero"} == strong
    assert arch["width"] == base["width"] and arch["lr"] == base["lr"]


def test_discretize_checks_the_shape():
    with pytest.raises(ValueError, match="shape"):
        discretize(np.ones((2, 2)), architecture({"n_nodes": 3}, "cell"))


def test_strategy_asks_supernets_then_their_architectures():
    cs = make_space("cell", seed=0)
    opt = DARTS(cs, seed=0)
    first = opt.ask()
    assert first.instance == SUPERNET and dict(first.config) == spaces.default_config(cs)
    found = dict(architecture({"n_nodes": 2, "op_1_0": "skip", "op_2_0": "linear", "op_2_1": "zero"}, "cell"))
    spec = TrialSpec(0, first.config, instance=SUPERNET)
    opt.tell(spec, TrialResult(0, Status.SUCCESS, (0.3,), info={"architecture": found}))
    second = opt.ask()
    assert second.instance is None and second.origin == "darts" and second.parent == 0
    assert architecture(dict(second.config), "cell") == found
    opt.tell(TrialSpec(1, second.config), TrialResult(1, Status.SUCCESS, (0.2,)))
    assert opt.best() == (second.config, 0.2)  # supernet trials never count as the best network
    assert opt.ask().instance == SUPERNET  # next round, new settings
    with pytest.raises(ValueError, match="cell"):
        DARTS(make_space("residual"))


def test_supernet_search_returns_a_valid_architecture():
    pytest.importorskip("torch", reason="autolearn.nas needs PyTorch: pip install 'autolearn[nn]'")
    from autolearn.nas.darts import search_cell

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    codes = rng.integers(0, 3, size=(64, 1))
    y = (x[:, 0] > 0).astype(np.int64)
    base = architecture({"n_nodes": 3, "n_cells": 1, "width": 32, "batch_size": 32}, "cell")
    arch, weights, out, facts = search_cell(x, codes, y, task="binary", n_outputs=2, base=base, cardinalities=[3],
                                            epochs=2, seed=0, eval_data=(x[:10], codes[:10]))
    assert arch == architecture(arch, "cell") and arch["n_nodes"] == 3
    assert weights.shape == (len(cell_edges(3)), len(CELL_OPS)) and np.allclose(weights.sum(axis=1), 1)
    assert out.shape == (10, 2) and facts["supernet_epochs"] == 2
    kept = [op for op in cell_genotype(arch).values() if op != "zero"]
    assert len(kept) == 1 + 2 + 2  # node 1 has one predecessor, nodes 2 and 3 keep two edges each
