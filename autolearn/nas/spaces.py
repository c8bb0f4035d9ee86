"""Network search spaces, in the same ConfigSpace language as every other hyperparameter.

Three families of architectures for tables, each one flat conditional space so that every optimizer
and scheduler of :mod:`autolearn.tune` searches it unchanged:

* ``"chain"``: a plain MLP, ``n_layers`` linear layers of their own ``width_i`` (``width_i`` is active
  only while ``n_layers >= i``), one activation, normalization (none/batch/layer) and dropout.
* ``"residual"``: the ResNet for tables of Gorishniy et al. (2021): a linear stem to ``d_main``, then
  ``n_blocks`` pre-norm blocks ``x + Dropout(Linear(Dropout(Act(Linear(Norm(x))))))`` with a hidden
  width of ``d_hidden_factor * d_main``, and a Norm-Act-Linear head.
* ``"cell"``: a DARTS-style cell, a small DAG on ``n_nodes`` nodes. Node ``j`` sums one operation
  per predecessor ``i < j`` (node 0 is the cell input), ``op_{j}_{i}`` chosen from :data:`CELL_OPS`;
  the cell outputs its input plus the mean of its nodes, and ``n_cells`` cells (same genotype,
  separate weights) are stacked between a linear stem and a linear head.

Every space also holds the training hyperparameters (``lr`` on a log scale, ``weight_decay``,
``batch_size``). Epochs are *not* a hyperparameter: they are the fidelity, which a budget fraction
sets (:func:`epochs_for_budget`).

A configuration of one of these spaces, plus the key ``"space"``, is an :class:`Architecture`: a dict
(JSON-able, so it can be stored, printed and passed back to an estimator to rebuild the network)
with a readable :meth:`~Architecture.describe`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, Float, InCondition, Integer

from autolearn.data.validation import check_choice
from autolearn.tune import space as spaces
from autolearn.tune.optimizers._mutation import ConfigOperators

SPACES: tuple[str, ...] = ("chain", "residual", "cell")
CELL_OPS: tuple[str, ...] = ("zero", "skip", "linear", "linear_relu", "linear_tanh")
ACTIVATIONS: tuple[str, ...] = ("relu", "gelu", "silu", "tanh")
NORMALIZATIONS: tuple[str, ...] = ("none", "batch", "layer")
MAX_LAYERS = 4  # chain
MAX_NODES = 4  # cell


def training_hyperparameters() -> list:
    """Optimizer settings searched with the architecture: they interact with it (width vs. lr)."""
    return [
        Float("lr", (1e-4, 3e-2), default=1e-3, log=True),
        Float("weight_decay", (1e-6, 1e-2), default=1e-5, log=True),
        Integer("batch_size", (32, 512), default=128, log=True),
    ]


def chain_space(seed: int | None = None) -> ConfigurationSpace:
    cs = ConfigurationSpace(seed=seed)
    n_layers = Integer("n_layers", (1, MAX_LAYERS), default=2)
    widths = [Integer(f"width_{i}", (16, 512), default=128, log=True) for i in range(1, MAX_LAYERS + 1)]
    cs.add([n_layers, *widths,
            Categorical("activation", list(ACTIVATIONS), default="relu"),
            Categorical("normalization", list(NORMALIZATIONS), default="batch"),
            Float("dropout", (0.0, 0.5), default=0.1),
            *training_hyperparameters()])
    cs.add([InCondition(widths[i - 1], n_layers, list(range(i, MAX_LAYERS + 1))) for i in range(2, MAX_LAYERS + 1)])
    return cs


def residual_space(seed: int | None = None) -> ConfigurationSpace:
    cs = ConfigurationSpace(seed=seed)
    cs.add([Integer("n_blocks", (1, 4), default=2),
            Integer("d_main", (32, 512), default=128, log=True),
            Float("d_hidden_factor", (1.0, 4.0), default=2.0),
            Float("hidden_dropout", (0.0, 0.5), default=0.2),
            Float("residual_dropout", (0.0, 0.2), default=0.0),
            Categorical("normalization", ["batch", "layer", "none"], default="batch"),
            Categorical("activation", ["relu", "gelu"], default="relu"),
            *training_hyperparameters()])
    return cs


def cell_edges(n_nodes: int = MAX_NODES) -> list[tuple[int, int]]:
    """``(j, i)`` for every edge into node ``j`` from a predecessor ``i`` (node 0 is the cell input)."""
    return [(j, i) for j in range(1, n_nodes + 1) for i in range(j)]


def cell_space(seed: int | None = None) -> ConfigurationSpace:
    cs = ConfigurationSpace(seed=seed)
    n_nodes = Integer("n_nodes", (2, MAX_NODES), default=3)
    ops = {}
    for j, i in cell_edges():
        # default genotype: a chain of linear+ReLU through the nodes (a residual MLP block)
        ops[(j, i)] = Categorical(f"op_{j}_{i}", list(CELL_OPS), default="linear_relu" if i == j - 1 else "zero")
    cs.add([n_nodes, *ops.values(),
            Integer("n_cells", (1, 3), default=2),
            Integer("width", (32, 256), default=128, log=True),
            Categorical("normalization", list(NORMALIZATIONS), default="layer"),
            Float("dropout", (0.0, 0.5), default=0.1),
            *training_hyperparameters()])
    cs.add([InCondition(hp, n_nodes, list(range(j, MAX_NODES + 1))) if j < MAX_NODES else EqualsCondition(hp, n_nodes, j)
            for (j, _), hp in ops.items() if j > 2])
    return cs


_BUILDERS = {"chain": chain_space, "residual": residual_space, "cell": cell_space}


def make_space(name: str, seed: int | None = None) -> ConfigurationSpace:
    """The ConfigSpace space of one family (``"chain"``, ``"residual"`` or ``"cell"``)."""
    return _BUILDERS[check_choice("space", name, SPACES)](seed)


def epochs_for_budget(budget: float, max_epochs: int, min_epochs: int = 1) -> int:
    """Epochs a fidelity fraction buys, as :class:`autolearn.components.Fidelity` counts them."""
    if not 0.0 < budget <= 1.0:
        raise ValueError(f"budget must be in (0, 1], got {budget!r}")
    return int(min(max_epochs, max(min_epochs, round(budget * max_epochs))))


class Architecture(dict):
    """A complete, valid configuration of one space plus ``"space"``: it rebuilds the same network.

    Being a plain ``dict`` it pickles, compares and serializes to JSON as one; ``str()`` reads like
    a short description of the network (``describe``).
    """

    @property
    def space(self) -> str:
        return self["space"]

    @property
    def config(self) -> dict[str, Any]:
        """The configuration in the space (without ``"space"``), as optimizers see it."""
        return {k: v for k, v in self.items() if k != "space"}

    def describe(self) -> str:
        return describe(self)

    def __str__(self) -> str:
        return self.describe()


def architecture(arch: Mapping[str, Any] | None = None, space: str | None = None) -> Architecture:
    """Complete and validate ``arch``: missing hyperparameters take the space's defaults.

    ``space`` (or ``arch["space"]``) names the family, ``"residual"`` when neither does. Keys that the
    given values make inactive (``width_3`` with ``n_layers=2``) are dropped; unknown keys and illegal
    values raise ValueError naming them.
    """
    arch = dict(arch or {})
    name = arch.pop("space", None) or space or "residual"
    if space is not None and name != space:
        raise ValueError(f"the architecture is of space {name!r} but space={space!r} was given")
    cs = make_space(name)
    unknown = sorted(set(arch) - set(cs))
    if unknown:
        raise ValueError(f"unknown hyperparameter(s) {unknown} for the {name!r} space; it has {sorted(cs)}")
    ops = ConfigOperators(cs)
    bad = [k for k, v in arch.items() if not ops.legal(k, spaces.plain(v))]
    if bad:
        raise ValueError(f"illegal value(s) for {', '.join(f'{k}={arch[k]!r}' for k in bad)} in the {name!r} space")
    config = ops.repair({k: spaces.plain(v) for k, v in arch.items()}, np.random.default_rng(0), fill="default")
    spaces.to_configuration(cs, config)  # the final word on validity
    return Architecture(space=name, **config)


def default_architecture(space: str = "residual") -> Architecture:
    return architecture(None, space)


def chain_widths(arch: Mapping[str, Any]) -> list[int]:
    return [int(arch[f"width_{i}"]) for i in range(1, int(arch["n_layers"]) + 1)]


def cell_genotype(arch: Mapping[str, Any]) -> dict[tuple[int, int], str]:
    """``{(j, i): op}`` of the active edges of a cell architecture."""
    return {(j, i): arch[f"op_{j}_{i}"] for j, i in cell_edges(int(arch["n_nodes"]))}


def describe(arch: Mapping[str, Any]) -> str:
    """One line a person can read: the layers, then the training settings."""
    a = arch
    norm = {"none": "no norm", "batch": "batch norm", "layer": "layer norm"}[a["normalization"]]
    if a["space"] == "chain":
        body = (f"MLP {' -> '.join(map(str, chain_widths(a)))} ({a['activation']}, {norm}, "
                f"dropout {a['dropout']:.2f})")
    elif a["space"] == "residual":
        hidden = int(round(a["d_main"] * a["d_hidden_factor"]))
        body = (f"ResNet {a['n_blocks']} block(s) d_main {a['d_main']} hidden {hidden} ({a['activation']}, {norm}, "
                f"dropout {a['hidden_dropout']:.2f}/{a['residual_dropout']:.2f})")
    else:
        edges = ", ".join(f"{i}->{j}:{op}" for (j, i), op in cell_genotype(a).items() if op != "zero")
        body = (f"{a['n_cells']} cell(s) of {a['n_nodes']} nodes width {a['width']} [{edges or 'all zero'}] "
                f"({norm}, dropout {a['dropout']:.2f})")
    return f"{body}; lr {a['lr']:.2g}, weight decay {a['weight_decay']:.2g}, batch {a['batch_size']}"
