"""``"nn"``: a PyTorch network as one model of the CASH space (needs the ``nn`` extra, torch).

One registry entry, like every model: a compact architecture space (a residual network or a plain
MLP, depth, width, dropout, normalization) plus the training settings, with epochs as the fidelity,
so multi-fidelity schedulers train cheap short runs first. The estimator is
:class:`autolearn.nas.estimators.NeuralNetClassifier` / ``NeuralNetRegressor`` with early stopping on
a tenth of its training rows. The full spaces and search strategies are in :mod:`autolearn.nas`.
After cross-validation the final model averages a member's fold networks rather than refitting one
(``average_folds``): on the NAS benchmark's splits the average beat the refit on 23 of 24
(``benchmarks/nas_final_model.py``).

``default_in_space=False``: the entry joins the default space only once ``benchmarks/nas.py`` shows
that it helps; until then ask for it with ``include=["nn"]``. It is registered only where torch is
installed (checked without importing it), so a machine without torch has no component that could
only fail.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from ConfigSpace import Categorical, Float, Integer

from autolearn.components.registry import TASKS, BuildContext, Component, Fidelity, register
from autolearn.components.warm_start import NetworkContinuation

FULL_EPOCHS = 60


def _architecture(p: dict[str, Any]) -> dict[str, Any]:
    """The compact hyperparameters as an architecture of :mod:`autolearn.nas.spaces`."""
    train = {"lr": p["lr"], "weight_decay": p["weight_decay"], "batch_size": p["batch_size"]}
    if p["arch"] == "chain":
        widths = {f"width_{i}": p["width"] for i in range(1, p["n_layers"] + 1)}
        return {"space": "chain", "n_layers": p["n_layers"], **widths, "activation": p["activation"],
                "normalization": p["normalization"], "dropout": p["dropout"], **train}
    return {"space": "residual", "n_blocks": p["n_layers"], "d_main": p["width"],
            "d_hidden_factor": p["d_hidden_factor"], "hidden_dropout": p["dropout"], "residual_dropout": 0.0,
            "normalization": p["normalization"], "activation": p["activation"], **train}


def _build(p: dict[str, Any], ctx: BuildContext) -> Any:
    from autolearn.nas.estimators import estimator_for

    return estimator_for(ctx.task)(_architecture(p), epochs=int(p["epochs"]), seed=ctx.seed, patience=8)


HYPERPARAMETERS = [
    Categorical("arch", ["residual", "chain"], default="residual"),
    Integer("n_layers", (1, 4), default=2),
    Integer("width", (32, 512), default=128, log=True),
    Float("d_hidden_factor", (1.0, 4.0), default=2.0),
    Float("dropout", (0.0, 0.5), default=0.1),
    Categorical("normalization", ["batch", "layer", "none"], default="batch"),
    Categorical("activation", ["relu", "gelu"], default="relu"),
    Float("lr", (1e-4, 1e-2), default=1e-3, log=True),
    Float("weight_decay", (1e-6, 1e-2), default=1e-5, log=True),
    Integer("batch_size", (32, 512), default=128, log=True),
]

if importlib.util.find_spec("torch") is not None:
    register(Component(
        "nn", "model", TASKS, _build, HYPERPARAMETERS,
        conditions=(("d_hidden_factor", "arch", "residual"),),
        fidelity=Fidelity("epochs", param="epochs", full=FULL_EPOCHS, min=3, warm_start=NetworkContinuation()),
        default_in_space=False, handles_sparse=False, average_folds=True,
        description="PyTorch residual network or MLP with embeddings and early stopping; budget scales the epochs",
    ))
