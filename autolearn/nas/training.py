"""The training loop every network goes through: minibatch AdamW, evaluated after each epoch.

One loop for the estimators and the search objective, so early stopping,
learning-curve stopping, time limits, mixed precision and warm continuation behave the same
everywhere. The loop's state (:class:`TrainState`) outlives a call: calling :func:`train` again with
more epochs continues where it stopped (same weights, same optimizer moments), which is how a
promoted multi-fidelity trial continues its parent instead of starting over.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autolearn.nas._torch import require_torch

torch = require_torch()

EvalFn = Callable[[np.ndarray], float]  # raw network outputs on the eval set -> loss (lower is better)
StopRule = Callable[[Sequence[float], int], bool]  # (eval curve so far, planned epochs) -> stop now?
PREDICT_CHUNK = 8192


@dataclass
class TrainState:
    """What a network's training has reached; continued by the next :func:`train` call."""

    network: Any
    optimizer: Any
    scaler: Any = None
    epochs_done: int = 0
    curve: list[float] = field(default_factory=list)  # eval loss after each epoch
    train_curve: list[float] = field(default_factory=list)  # mean training loss of each epoch
    best_loss: float = math.inf
    best_epoch: int = 0
    best_state: dict[str, Any] | None = None
    stopped: str = ""  # "", "early_stopping", "learning_curve", "time", "diverged"
    epoch_seconds: list[float] = field(default_factory=list)


class AdamW:
    """AdamW (Loshchilov & Hutter) with the interface the loop and ``GradScaler`` use.

    Not ``torch.optim.AdamW``: constructing any ``torch.optim`` optimizer imports ``torch._dynamo``,
    which takes 1-3 s, paid again by every fresh worker process (a trial killed at its time limit
    restarts its worker). Tabular networks train in about that time, so the import would dominate.
    """

    def __init__(self, params: Any, lr: float = 1e-3, weight_decay: float = 1e-2,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.param_groups = [{"params": [p for p in params if p.requires_grad], "lr": lr,
                              "weight_decay": weight_decay, "betas": betas, "eps": eps}]
        self.state: dict[int, dict[str, Any]] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for k, p in enumerate(group["params"]):
                if p.grad is None:
                    continue
                st = self.state.setdefault(k, {"step": 0, "m": torch.zeros_like(p), "v": torch.zeros_like(p)})
                st["step"] += 1
                p.mul_(1 - group["lr"] * group["weight_decay"])
                st["m"].mul_(beta1).add_(p.grad, alpha=1 - beta1)
                st["v"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                m_hat = st["m"] / (1 - beta1 ** st["step"])
                v_hat = st["v"] / (1 - beta2 ** st["step"])
                p.addcdiv_(m_hat, v_hat.sqrt_().add_(group["eps"]), value=-group["lr"])

    def state_dict(self) -> dict[str, Any]:
        return {"state": {k: dict(v) for k, v in self.state.items()},
                "param_groups": [{k: v for k, v in g.items() if k != "params"} for g in self.param_groups]}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        for group, settings in zip(self.param_groups, saved["param_groups"]):
            group.update(settings)
        device = self.param_groups[0]["params"][0].device if self.param_groups[0]["params"] else None
        self.state = {int(k): {n: (t.to(device) if torch.is_tensor(t) else t) for n, t in v.items()}
                      for k, v in saved["state"].items()}


def make_state(network: Any, lr: float, weight_decay: float, device: Any) -> TrainState:
    network.to(device)
    optimizer = AdamW(network.parameters(), lr=lr, weight_decay=weight_decay)
    scaler = torch.amp.GradScaler("cuda") if device.type == "cuda" else None
    return TrainState(network, optimizer, scaler)


def _tensors(x_num: np.ndarray, x_cat: np.ndarray, device: Any) -> tuple[Any, Any]:
    # torch.tensor copies: inputs may be read-only views (pandas, memory maps) that torch must not alias
    return (torch.tensor(x_num, dtype=torch.float32, device=device),
            torch.tensor(x_cat, dtype=torch.long, device=device))


def predict_raw(network: Any, x_num: np.ndarray, x_cat: np.ndarray, device: Any) -> np.ndarray:
    """Network outputs (logits or standardized values) for every row, in chunks, in eval mode."""
    network.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(x_num), PREDICT_CHUNK):
            xn, xc = _tensors(x_num[start:start + PREDICT_CHUNK], x_cat[start:start + PREDICT_CHUNK], device)
            with torch.autocast(device_type=device.type, enabled=device.type == "cuda"):
                out.append(network(xn, xc).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 1), dtype=np.float32)


def train(
    state: TrainState,
    x_num: np.ndarray,
    x_cat: np.ndarray,
    target: np.ndarray,
    *,
    loss_fn: Any,
    epochs: int,
    batch_size: int,
    device: Any,
    seed: int = 0,
    eval_data: tuple[np.ndarray, np.ndarray] | None = None,
    eval_fn: EvalFn | None = None,
    patience: int | None = 10,
    stop_rule: StopRule | None = None,
    max_time: float | None = None,
    verbose: int = 0,
) -> TrainState:
    """Train until ``state.epochs_done == epochs`` or a stopping rule fires; returns ``state``.

    The best epoch's weights are restored at the end: best on ``eval_data`` (early stopping with
    ``patience``; ``None`` disables it), or by training loss without it, so a run that diverges late
    still ends with finite weights. ``max_time`` stops
    between epochs when the next one would not finish in time, but at least one epoch is always
    trained. Raises FloatingPointError when the very first epoch diverges.
    """
    net, started = state.network, time.perf_counter()
    y = torch.tensor(target, device=device)
    xn, xc = _tensors(x_num, x_cat, device)
    n = len(target)
    generator = torch.Generator().manual_seed(int(seed) * 7919 + state.epochs_done)
    amp = device.type == "cuda"
    state.stopped = ""
    while state.epochs_done < epochs:
        t0 = time.perf_counter()
        net.train()
        order = torch.randperm(n, generator=generator).to(device)
        total, seen = 0.0, 0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            if len(idx) < 2 and n > 1:  # batch norm cannot train on a single row
                continue
            state.optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device_type=device.type, enabled=amp):
                loss = loss_fn(net(xn[idx], xc[idx]), y[idx])
            if state.scaler is not None:
                state.scaler.scale(loss).backward()
                state.scaler.step(state.optimizer)
                state.scaler.update()
            else:
                loss.backward()
                state.optimizer.step()
            total += float(loss.detach()) * len(idx)
            seen += len(idx)
        state.epochs_done += 1
        train_loss = total / max(seen, 1)
        state.train_curve.append(train_loss)
        if not math.isfinite(train_loss):
            state.stopped = "diverged"
            if state.best_state is None:
                raise FloatingPointError(
                    f"training diverged (loss {train_loss}) in epoch {state.epochs_done}; lower the learning rate"
                )
            break
        current = train_loss
        if eval_data is not None and eval_fn is not None:
            current = float(eval_fn(predict_raw(net, eval_data[0], eval_data[1], device)))
        state.curve.append(current if math.isfinite(current) else math.inf)
        if current < state.best_loss - 1e-7 * max(abs(state.best_loss), 1.0) or state.best_state is None:
            state.best_loss, state.best_epoch = current, state.epochs_done
            state.best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        state.epoch_seconds.append(time.perf_counter() - t0)
        if verbose:
            print(f"epoch {state.epochs_done:4d}  train {train_loss:.5f}  eval {current:.5f}")
        if eval_data is not None and patience is not None and state.epochs_done - state.best_epoch >= patience:
            state.stopped = "early_stopping"
            break
        if stop_rule is not None and stop_rule(state.curve, epochs):
            state.stopped = "learning_curve"
            break
        if max_time is not None and state.epochs_done < epochs:
            elapsed = time.perf_counter() - started
            if elapsed + float(np.mean(state.epoch_seconds[-3:])) > max_time:
                state.stopped = "time"
                break
    if state.best_state is not None:
        net.load_state_dict(state.best_state)
    return state
