"""The network spaces: valid, conditional, and architectures that rebuild (no torch needed)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from autolearn.nas.spaces import (
    SPACES,
    Architecture,
    architecture,
    cell_genotype,
    chain_widths,
    default_architecture,
    epochs_for_budget,
    make_space,
)
from autolearn.tune import space as spaces


@pytest.mark.parametrize("name", SPACES)
def test_sampled_configurations_are_architectures(name):
    cs = make_space(name, seed=0)
    for config in spaces.sample(cs, 25, np.random.default_rng(0)):
        arch = architecture(config, name)
        assert arch.config == config and arch.space == name
        assert json.loads(json.dumps(arch)) == arch  # storable as is
        assert str(arch) == arch.describe() and "lr" in str(arch)


def test_chain_widths_follow_depth():
    arch = architecture({"n_layers": 2, "width_1": 64, "width_2": 32}, "chain")
    assert chain_widths(arch) == [64, 32] and "width_3" not in arch
    # a value made inactive by the depth is dropped, not an error
    assert "width_4" not in architecture({"n_layers": 1, "width_4": 99}, "chain")


def test_cell_edges_follow_node_count():
    arch = architecture({"n_nodes": 2}, "cell")
    assert set(cell_genotype(arch)) == {(1, 0), (2, 0), (2, 1)}
    assert "op_3_0" not in arch
    assert len(cell_genotype(architecture({"n_nodes": 4}, "cell"))) == 10


def test_defaults_and_space_from_the_dict():
    assert default_architecture("residual") == architecture({}, "residual")
    arch = architecture({"space": "chain", "n_layers": 3})
    assert isinstance(arch, Architecture) and arch.space == "chain" and arch["width_3"] == 128
    assert architecture(dict(arch)) == arch  # round trip


@pytest.mark.parametrize(("arch", "message"), [
    ({"depth": 3}, "unknown hyperparameter"),
    ({"n_blocks": 99}, "illegal value"),
    ({"normalization": "group"}, "illegal value"),
])
def test_bad_architectures_are_named(arch, message):
    with pytest.raises(ValueError, match=message):
        architecture(arch, "residual")


def test_space_mismatch_and_unknown_space():
    with pytest.raises(ValueError, match="space"):
        architecture({"space": "chain"}, "residual")
    with pytest.raises(ValueError, match="unknown space"):
        make_space("transformer")


def test_epochs_for_budget():
    assert [epochs_for_budget(b, 27) for b in (1 / 27, 1 / 9, 1 / 3, 1.0)] == [1, 3, 9, 27]
    assert epochs_for_budget(0.001, 10) == 1
    with pytest.raises(ValueError):
        epochs_for_budget(0.0, 10)
