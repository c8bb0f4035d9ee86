"""The systems a run can name, one small entry each.

* in-process baselines: ``constant``, ``lightgbm_default``, ``rf_default``;
* ``autolearn``: this repository's estimator, run by ``runners/autolearn_runner.py`` under the harness's
  own Python, as a separate process, so it gets the same isolation, hard limit and memory accounting
  as every peer;
* peers, each in ``benchmarks/.venvs/<venv>`` made by ``setup_peers.sh``: ``flaml``, ``autogluon``,
  ``h2o``, ``tpot``, ``mljar``, ``autosklearn``. A peer whose venv is missing (or whose install
  failed) is still run, and recorded as ``not_installed`` with the reason.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from benchmarks.automl.systems._base import RunContext, System, SystemOutput
from benchmarks.automl.systems.baselines import BASELINES, InProcessSystem
from benchmarks.automl.systems.external import RUNNERS_DIR, ExternalSystem

VENVS_DIR = Path(__file__).resolve().parents[2] / ".venvs"
# system name -> (venv folder, runner script)
PEERS: dict[str, tuple[str, str]] = {
    "flaml": ("flaml", "flaml_runner.py"),
    "autogluon": ("autogluon", "autogluon_runner.py"),
    "h2o": ("h2o", "h2o_runner.py"),
    "tpot": ("tpot", "tpot_runner.py"),
    "mljar": ("mljar", "mljar_runner.py"),
    "autosklearn": ("autosklearn", "autosklearn_runner.py"),
}
ALIASES = {"autogluon_tabular": "autogluon", "h2o_automl": "h2o", "mljar_supervised": "mljar",
           "auto-sklearn": "autosklearn", "auto_sklearn": "autosklearn", "lightgbm": "lightgbm_default",
           "random_forest": "rf_default", "rf": "rf_default"}
SYSTEMS = ("autolearn", *PEERS, *BASELINES)


def peer_unavailable(venv: Path) -> str:
    """Why a peer's venv cannot run (empty if it can): the install's own failure note if there is one."""
    failed = venv.with_name(venv.name + ".failed")
    if failed.exists():
        return f"install failed: {failed.read_text().strip()}"
    if not (venv / "bin" / "python").exists():
        return f"no virtual environment at {venv}; run: bash benchmarks/automl/setup_peers.sh {venv.name}"
    return ""


def build_system(name: str, options: dict[str, Any] | None = None, venvs_dir: Path = VENVS_DIR) -> System:
    """The system called ``name`` (see the module docstring), with its ``options``."""
    key = ALIASES.get(name, name)
    if key in BASELINES:
        factory, package = BASELINES[key]
        return InProcessSystem(key, factory, package=package, options=options)
    if key == "autolearn":
        return ExternalSystem("autolearn", sys.executable, RUNNERS_DIR / "autolearn_runner.py", options)
    if key in PEERS:
        folder, script = PEERS[key]
        venv = Path(venvs_dir) / folder
        return ExternalSystem(key, venv / "bin" / "python", RUNNERS_DIR / script, options,
                              unavailable=peer_unavailable(venv))
    raise KeyError(f"unknown system {name!r}; choose from {', '.join(SYSTEMS)}")


__all__ = ["SYSTEMS", "ExternalSystem", "InProcessSystem", "RunContext", "System", "SystemOutput", "build_system"]
