"""The one place torch is imported from, so that a missing torch gives one clear message.

``autolearn.nas`` itself (spaces, learning curves) works without torch; anything that builds or
trains a network calls :func:`require_torch` first.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

INSTALL_HINT = "neural networks need PyTorch: pip install 'autolearn[nn]' (torch>=2.1)"


def require_torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return torch


def torch_available() -> bool:
    try:
        require_torch()
    except ImportError:
        return False
    return True


def resolve_device(device: str = "auto") -> Any:
    """``"auto"`` is CUDA when present, else the CPU; anything else is passed to ``torch.device``."""
    torch = require_torch()
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def set_threads(n: int | None = None) -> None:
    """In an autolearn worker (``AUTOLEARN_THREADS`` set), train on one thread unless
    ``AUTOLEARN_TORCH_THREADS`` says otherwise; elsewhere leave torch's setting alone.

    Tabular networks multiply small matrices: a second intra-op thread gains little, and on a
    shared or busy machine torch's spinning thread pool made training 5-50x slower in our
    measurements. Parallelism comes from running trials side by side (``n_jobs``).
    """
    torch = require_torch()
    if n is None:
        text = os.environ.get("AUTOLEARN_TORCH_THREADS") or ("1" if "AUTOLEARN_THREADS" in os.environ else "")
        n = int(text) if text else None
    if n and torch.get_num_threads() != n:
        torch.set_num_threads(n)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's global generator (weights, dropout) and restore it after: fits are reproducible
    on the CPU without changing the caller's random state."""
    torch = require_torch()
    state = torch.random.get_rng_state()
    torch.manual_seed(int(seed))
    try:
        yield
    finally:
        torch.random.set_rng_state(state)


def to_numpy(obj: Any) -> Any:
    """Tensors (nested in dicts and lists) as NumPy copies: how saved models hold their weights, so
    that any pickler (joblib memory-maps arrays) and any machine (no GPU) can load them."""
    torch = require_torch()
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().numpy().copy()
    if isinstance(obj, dict):
        return {k: to_numpy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_numpy(v) for v in obj]
    return obj


def to_tensors(obj: Any) -> Any:
    """The inverse of :func:`to_numpy`: arrays (possibly read-only maps) to freshly allocated tensors."""
    torch = require_torch()
    if isinstance(obj, np.ndarray):
        return torch.tensor(np.array(obj))
    if isinstance(obj, dict):
        return {k: to_tensors(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_tensors(v) for v in obj]
    return obj
