"""The one place torch is imported from, so that a missing torch gives one clear message.

``autolearn.nas`` itself (spaces, learning curves) works without torch; anything that builds or
trains a network calls :func:`require_torch` first.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

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
    """Use the worker's share of cores (``AUTOLEARN_THREADS``), never every core of a shared machine."""
    torch = require_torch()
    n = n or int(os.environ.get("AUTOLEARN_THREADS", "0")) or None
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
