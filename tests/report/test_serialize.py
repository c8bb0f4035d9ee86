import json
import math

import numpy as np

from autolearn.report.serialize import json_safe


def test_non_finite_floats_become_null_and_numpy_scalars_python_numbers():
    value = {"loss": math.nan, "scores": (np.float64(0.5), np.inf, -np.inf), "n": np.int64(3),
             "nested": [{"ok": np.bool_(True), "name": "a"}], "bytes": b"x"}
    out = json_safe(value)
    assert out == {"loss": None, "scores": [0.5, None, None], "n": 3, "nested": [{"ok": True, "name": "a"}],
                   "bytes": b"x"}
    assert type(out["n"]) is int and type(out["scores"][0]) is float and type(out["nested"][0]["ok"]) is bool
    json.loads(json.dumps({k: v for k, v in out.items() if k != "bytes"}, allow_nan=False))
