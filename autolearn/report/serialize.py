"""JSON that any reader accepts, from what a search or a benchmark produces.

``json.dumps`` writes ``NaN`` and ``Infinity``, which are not JSON: browsers (the dashboard) and strict
readers reject the whole document. A failed trial's loss or a missing measurement is a non-finite
float, so everything written for other programs goes through :func:`json_safe` first. (The run history
keeps non-finite floats exactly; :mod:`autolearn.storage.sql` encodes them itself.)
"""

from __future__ import annotations

import math
from typing import Any


def json_safe(value: Any) -> Any:
    """``value`` with non-finite floats as ``None`` and numpy scalars as Python numbers, recursively
    through dicts, lists and tuples (tuples become lists)."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
