"""DARTS (Liu, Simonyan & Yang, ICLR 2019) on the cell space: search by gradient, then discretize.

Every edge of the cell carries a *mixed operation*, the softmax-weighted sum of all of
:data:`~autolearn.nas.spaces.CELL_OPS`; the architecture weights ``alpha`` (one row per edge, shared by
all cells, since the discrete network repeats one genotype) are learned by gradient alongside the
network weights. One *supernet* is trained instead of many networks: this is the weight-sharing
speed-up. Training alternates (first-order DARTS) between

* an ``alpha`` step on a validation batch (Adam, lr 3e-3, betas (0.5, 0.999), as in the paper), and
* a weight step on a training batch (AdamW with the configuration's lr and weight decay),

with the training rows split in halves for the two. :func:`discretize` then keeps, for each node,
the ``k = min(2, j)`` incoming edges whose strongest non-zero operation weighs most and gives each
kept edge that operation; other edges become ``"zero"``. The result is a valid architecture of the
cell space, which is trained from scratch and evaluated like any other.

:class:`DARTS` puts this behind the ask/tell interface: it asks for a supernet trial (``instance
"supernet"``; its configuration fixes width, depth, node count and training settings, and its edges
are ignored), and when told the discretized architecture it queues it for a standalone trial
(``origin="darts"``, ``parent=`` the supernet trial). Rounds repeat with new random settings, as the
DARTS paper repeats the search with several seeds and keeps the best architecture by validation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace

from autolearn.nas.spaces import CELL_OPS, Architecture, architecture, cell_edges
from autolearn.records import Suggestion, TrialResult, TrialSpec
from autolearn.tune import space as spaces
from autolearn.tune.optimizers._base import Optimizer

SUPERNET = "supernet"  # the TrialSpec.instance of a DARTS supernet trial


def discretize(weights: np.ndarray, base: Mapping[str, Any], top_k: int = 2) -> Architecture:
    """The cell architecture that ``weights`` (softmaxed alphas, (n_edges, n_ops)) select.

    ``base`` supplies everything but the edges (``n_nodes`` included); edges follow
    :func:`~autolearn.nas.spaces.cell_edges` order.
    """
    n_nodes = int(base["n_nodes"])
    edges = cell_edges(n_nodes)
    if weights.shape != (len(edges), len(CELL_OPS)):
        raise ValueError(f"expected weights of shape {(len(edges), len(CELL_OPS))}, got {weights.shape}")
    nonzero = [k for k, op in enumerate(CELL_OPS) if op != "zero"]
    config = {k: v for k, v in base.items() if not k.startswith("op_") and k != "space"}
    for j in range(1, n_nodes + 1):
        rows = [(e, i) for e, (jj, i) in enumerate(edges) if jj == j]
        strength = {i: float(weights[e, nonzero].max()) for e, i in rows}
        keep = set(sorted(strength, key=lambda i: (-strength[i], i))[: min(top_k, j)])
        for e, i in rows:
            config[f"op_{j}_{i}"] = CELL_OPS[nonzero[int(np.argmax(weights[e, nonzero]))]] if i in keep else "zero"
    return architecture(config, "cell")


def _supernet_modules() -> tuple[type, type]:
    """The torch modules, built on first use so this module imports without torch."""
    from autolearn.nas._torch import require_torch
    from autolearn.nas.networks import _norm, cell_op

    torch = require_torch()
    nn = torch.nn

    class MixedCell(nn.Module):
        def __init__(self, n_nodes: int, width: int, norm: str, dropout: float) -> None:
            super().__init__()
            self.n_nodes = n_nodes
            self.edges = cell_edges(n_nodes)
            self.ops = nn.ModuleList(nn.ModuleList(cell_op(op, width) for op in CELL_OPS) for _ in self.edges)
            self.norm = _norm(norm, width)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x: Any, weights: Any) -> Any:
            nodes = [self.norm(x)]
            for j in range(1, self.n_nodes + 1):
                total = 0
                for e, (jj, i) in enumerate(self.edges):
                    if jj == j:
                        total = total + sum(w * op(nodes[i]) for w, op in zip(weights[e], self.ops[e]))
                nodes.append(total)
            return x + self.dropout(torch.stack(nodes[1:]).mean(dim=0))

    class SuperBody(nn.Module):
        def __init__(self, d_in: int, arch: Mapping[str, Any]) -> None:
            super().__init__()
            width, n_nodes = int(arch["width"]), int(arch["n_nodes"])
            self.alpha = nn.Parameter(1e-3 * torch.randn(len(cell_edges(n_nodes)), len(CELL_OPS)))
            self.stem = nn.Linear(d_in, width)
            self.cells = nn.ModuleList(MixedCell(n_nodes, width, arch["normalization"], arch["dropout"])
                                       for _ in range(int(arch["n_cells"])))
            self.out = nn.Sequential(_norm(arch["normalization"], width), nn.ReLU())

        def forward(self, x: Any) -> Any:
            weights = torch.softmax(self.alpha, dim=-1)
            x = self.stem(x)
            for cell in self.cells:
                x = cell(x, weights)
            return self.out(x)

    return MixedCell, SuperBody


def search_cell(x_num: np.ndarray, x_cat: np.ndarray, target: np.ndarray, *, task: str, n_outputs: int,
                base: Mapping[str, Any], cardinalities: Sequence[int], epochs: int, seed: int = 0,
                max_time: float | None = None, device: Any = None,
                eval_data: tuple[np.ndarray, np.ndarray] | None = None,
                ) -> tuple[Architecture, np.ndarray, np.ndarray | None, dict[str, Any]]:
    """Train a supernet by first-order DARTS on these rows; return the discretized architecture,
    the final softmaxed alphas, the supernet's raw outputs on ``eval_data`` (None without) and a few
    facts (epochs run, seconds).

    ``target`` is class indices for classification and the standardized target for regression.
    """
    from autolearn.nas._torch import require_torch, resolve_device, seeded
    from autolearn.nas.networks import build_network, numeric_stats
    from autolearn.nas.training import AdamW, predict_raw

    torch = require_torch()
    device = device or resolve_device("auto")
    base = architecture(base, "cell")
    _, SuperBody = _supernet_modules()
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(target))
    half = max(1, len(rows) // 2)
    train_rows, val_rows = rows[:half], rows[half:] if len(rows) > 1 else rows
    stats = numeric_stats(x_num[train_rows])
    with seeded(seed):
        net = build_network(base, stats, cardinalities, n_outputs, body=lambda d_in: (SuperBody(d_in, base),
                                                                                         int(base["width"])))
    net.to(device)
    alpha = [net.body.alpha]
    weights = [p for name, p in net.named_parameters() if not name.endswith("body.alpha")]
    w_opt = AdamW(weights, lr=base["lr"], weight_decay=base["weight_decay"])
    a_opt = AdamW(alpha, lr=3e-3, betas=(0.5, 0.999), weight_decay=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss() if task != "regression" else torch.nn.MSELoss()
    xn = torch.tensor(x_num, dtype=torch.float32, device=device)
    xc = torch.tensor(x_cat, dtype=torch.long, device=device)
    y = torch.tensor(target, device=device)
    batch = int(base["batch_size"])
    generator = torch.Generator().manual_seed(int(seed))
    started, done = time.perf_counter(), 0
    with seeded(seed + 1):
        for _ in range(epochs):
            net.train()
            tr = torch.as_tensor(train_rows)[torch.randperm(len(train_rows), generator=generator)]
            va = torch.as_tensor(val_rows)[torch.randint(len(val_rows), (len(tr),), generator=generator)]
            for start in range(0, len(tr), batch):
                bt, bv = tr[start:start + batch].to(device), va[start:start + batch].to(device)
                if len(bt) < 2:
                    continue
                a_opt.zero_grad(set_to_none=True)
                loss_fn(net(xn[bv], xc[bv]), y[bv]).backward()
                a_opt.step()
                w_opt.zero_grad(set_to_none=True)
                loss = loss_fn(net(xn[bt], xc[bt]), y[bt])
                loss.backward()
                w_opt.step()
                if not math.isfinite(float(loss.detach())):
                    raise FloatingPointError("the DARTS supernet diverged; lower the learning rate")
            done += 1
            if max_time is not None and (time.perf_counter() - started) * (done + 1) / done > max_time:
                break
    final = torch.softmax(net.body.alpha.detach(), dim=-1).cpu().numpy()
    info = {"supernet_epochs": done, "supernet_seconds": time.perf_counter() - started}
    out = None if eval_data is None else predict_raw(net, eval_data[0], eval_data[1], device)
    return discretize(final, base), final, out, info


class DARTS(Optimizer):
    """Ask/tell face of DARTS: supernet trials, then their discretized architectures (see module doc).

    ``tell`` expects a supernet trial's ``result.info["architecture"]``; the first round uses the
    space's defaults for the non-edge settings, later rounds draw them at random.
    """

    name = "darts"

    def __init__(self, space: ConfigurationSpace, *, n_objectives: int = 1, seed: int | None = None,
                 initial_design: Iterable[Mapping[str, Any]] = ()) -> None:
        if "op_1_0" not in space:
            raise ValueError("strategy 'darts' searches the cell space; use space='cell'")
        super().__init__(space, n_objectives=n_objectives, seed=seed, initial_design=initial_design)
        self.rounds = 0

    def _propose(self, pending: Sequence[TrialSpec]) -> Suggestion:
        config = spaces.default_config(self.space) if self.rounds == 0 else self.sample_random(1)[0]
        self.rounds += 1
        return Suggestion(config, budget=1.0, instance=SUPERNET, origin="darts-supernet")

    def _observe(self, spec: TrialSpec, result: TrialResult) -> None:
        found = result.info.get("architecture") if spec.instance == SUPERNET else None
        if found:
            arch = architecture(found, "cell")
            self._queue.append(Suggestion(arch.config, budget=1.0, origin="darts", parent=spec.trial_id))

    def best(self) -> tuple[Mapping[str, Any], float] | None:
        done = [(s.config, r.loss) for s, r in self.history if r.ok and s.instance != SUPERNET]
        return min(done, key=lambda t: t[1]) if done else None
