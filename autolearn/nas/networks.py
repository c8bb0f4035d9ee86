"""The networks of the three spaces, each behind the same input module and output head.

``build_network(arch, numeric_stats, cardinalities, n_outputs)`` is the one constructor: the
estimators, the search objective and DARTS (for its discretized result) all call it, so a
configuration always means the same network.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from autolearn.nas._torch import require_torch
from autolearn.nas.spaces import cell_genotype, chain_widths

torch = require_torch()
nn = torch.nn

CLAMP = 10.0  # standardized values beyond ±CLAMP are clipped: one outlier at predict time cannot blow up


def embedding_dim(cardinality: int) -> int:
    """fastai's rule of thumb ``1.6 * n**0.56``, capped at 32: enough for tables, cheap to train."""
    return int(min(32, max(2, round(1.6 * cardinality**0.56))))


class TabularInput(nn.Module):
    """Raw numerics and category codes in, one feature vector out; the preprocessing travels with the model.

    Numerics are standardized with the training mean and deviation (buffers, so they are saved in
    the state dict), NaN becomes 0 (the mean) plus a 0/1 indicator for each column that had missing
    values at fit time, and each categorical column is embedded (code 0: unknown or rare).
    """

    def __init__(self, mean: np.ndarray, std: np.ndarray, missing: np.ndarray, cardinalities: Sequence[int]) -> None:
        super().__init__()
        # torch.tensor copies: the statistics may be read-only memory maps (joblib), which a buffer must not alias
        self.register_buffer("mean", torch.tensor(np.asarray(mean), dtype=torch.float32))
        self.register_buffer("std", torch.tensor(np.asarray(std), dtype=torch.float32))
        self.register_buffer("missing", torch.tensor(np.flatnonzero(missing), dtype=torch.long))
        self.embeddings = nn.ModuleList(nn.Embedding(int(c), embedding_dim(int(c))) for c in cardinalities)
        self.n_out = len(mean) + len(self.missing) + sum(embedding_dim(int(c)) for c in cardinalities)

    def forward(self, x_num: Any, x_cat: Any) -> Any:
        isnan = torch.isnan(x_num)
        x = torch.clamp((torch.nan_to_num(x_num, nan=0.0) - self.mean) / self.std, -CLAMP, CLAMP)
        parts = [x.masked_fill(isnan, 0.0), isnan[:, self.missing].to(x.dtype)]
        parts += [emb(x_cat[:, k]) for k, emb in enumerate(self.embeddings)]
        return torch.cat(parts, dim=1)


def numeric_stats(x_num: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, deviation (1 where constant or all missing) and which columns have missing values."""
    missing = np.isnan(x_num).any(axis=0) if len(x_num) else np.zeros(x_num.shape[1], dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: mean 0, deviation 1
        mean = np.nan_to_num(np.nanmean(x_num, axis=0)) if x_num.shape[1] else np.zeros(0)
        std = np.nan_to_num(np.nanstd(x_num, axis=0)) if x_num.shape[1] else np.zeros(0)
    std = np.where(std > 1e-12, std, 1.0)
    return mean.astype(np.float32), std.astype(np.float32), missing


def _norm(kind: str, width: int) -> Any:
    return {"batch": lambda: nn.BatchNorm1d(width), "layer": lambda: nn.LayerNorm(width),
            "none": nn.Identity}[kind]()


def _act(kind: str) -> Any:
    return {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh}[kind]()


def chain_body(arch: Mapping[str, Any], d_in: int) -> tuple[Any, int]:
    layers: list[Any] = []
    for width in chain_widths(arch):
        layers += [nn.Linear(d_in, width), _norm(arch["normalization"], width), _act(arch["activation"]),
                   nn.Dropout(arch["dropout"])]
        d_in = width
    return nn.Sequential(*layers), d_in


class ResidualBlock(nn.Module):
    def __init__(self, d_main: int, d_hidden: int, norm: str, act: str, hidden_dropout: float,
                 residual_dropout: float) -> None:
        super().__init__()
        self.block = nn.Sequential(_norm(norm, d_main), nn.Linear(d_main, d_hidden), _act(act),
                                   nn.Dropout(hidden_dropout), nn.Linear(d_hidden, d_main),
                                   nn.Dropout(residual_dropout))

    def forward(self, x: Any) -> Any:
        return x + self.block(x)


def residual_body(arch: Mapping[str, Any], d_in: int) -> tuple[Any, int]:
    d_main = int(arch["d_main"])
    d_hidden = max(1, int(round(d_main * arch["d_hidden_factor"])))
    blocks = [ResidualBlock(d_main, d_hidden, arch["normalization"], arch["activation"], arch["hidden_dropout"],
                            arch["residual_dropout"]) for _ in range(int(arch["n_blocks"]))]
    head = [_norm(arch["normalization"], d_main), _act(arch["activation"])]
    return nn.Sequential(nn.Linear(d_in, d_main), *blocks, *head), d_main


class Zero(nn.Module):
    def forward(self, x: Any) -> Any:
        return torch.zeros_like(x)


def cell_op(name: str, width: int) -> Any:
    """One operation of :data:`autolearn.nas.spaces.CELL_OPS` on vectors of ``width``."""
    if name == "zero":
        return Zero()
    if name == "skip":
        return nn.Identity()
    linear = nn.Linear(width, width)
    extra = {"linear": [], "linear_relu": [nn.ReLU()], "linear_tanh": [nn.Tanh()]}[name]
    return nn.Sequential(linear, *extra)


class Cell(nn.Module):
    """A DAG cell: node j = sum over i < j of op_{j,i}(node i); output = input + mean of the nodes."""

    def __init__(self, genotype: Mapping[tuple[int, int], str], n_nodes: int, width: int, norm: str,
                 dropout: float) -> None:
        super().__init__()
        self.n_nodes = n_nodes
        self.edges = [(j, i) for (j, i), op in sorted(genotype.items()) if op != "zero"]
        self.ops = nn.ModuleDict({f"{j}_{i}": cell_op(genotype[(j, i)], width) for j, i in self.edges})
        self.norm = _norm(norm, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Any) -> Any:
        nodes = [self.norm(x)]
        for j in range(1, self.n_nodes + 1):
            incoming = [self.ops[f"{j}_{i}"](nodes[i]) for jj, i in self.edges if jj == j]
            nodes.append(sum(incoming) if incoming else torch.zeros_like(x))
        return x + self.dropout(torch.stack(nodes[1:]).mean(dim=0))


def cell_body(arch: Mapping[str, Any], d_in: int) -> tuple[Any, int]:
    width = int(arch["width"])
    genotype = cell_genotype(arch)
    cells = [Cell(genotype, int(arch["n_nodes"]), width, arch["normalization"], arch["dropout"])
             for _ in range(int(arch["n_cells"]))]
    return nn.Sequential(nn.Linear(d_in, width), *cells, _norm(arch["normalization"], width), nn.ReLU()), width


_BODIES = {"chain": chain_body, "residual": residual_body, "cell": cell_body}


class TabularNetwork(nn.Module):
    """input module → body of the architecture's family → linear head (logits or one value)."""

    def __init__(self, inputs: TabularInput, body: Any, d_body: int, n_outputs: int) -> None:
        super().__init__()
        self.inputs = inputs
        self.body = body
        self.head = nn.Linear(d_body, n_outputs)

    def forward(self, x_num: Any, x_cat: Any) -> Any:
        return self.head(self.body(self.inputs(x_num, x_cat)))


def build_network(arch: Mapping[str, Any], stats: tuple[np.ndarray, np.ndarray, np.ndarray],
                  cardinalities: Sequence[int], n_outputs: int, body: Any = None) -> TabularNetwork:
    """The network of ``arch`` (an :class:`~autolearn.nas.spaces.Architecture`) for these inputs.

    ``body`` replaces the architecture's body (DARTS passes its supernet of mixed operations).
    """
    inputs = TabularInput(*stats, cardinalities)
    if body is None:
        body, d_body = _BODIES[arch["space"]](arch, inputs.n_out)
    else:
        body, d_body = body(inputs.n_out)
    return TabularNetwork(inputs, body, d_body, n_outputs)


def count_parameters(module: Any) -> int:
    return int(sum(p.numel() for p in module.parameters()))
