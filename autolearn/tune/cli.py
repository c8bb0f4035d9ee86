"""``autolearn tune create|ask|tell|best|trials``: drive a stored study from a shell script, JSON in and out."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _space(text: str) -> Any:
    """A space from a JSON file or string: ConfigSpace's JSON, or the dict form with lists for ranges."""
    raw = Path(text).read_text() if Path(text).exists() else text
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--space is neither a JSON file nor a JSON string: {exc}") from None
    if isinstance(data, dict) and "hyperparameters" in data:
        from autolearn.tune.space import space_from_json

        return space_from_json(raw)
    if not isinstance(data, dict):
        raise ValueError("--space must be a JSON object")
    # JSON has no tuples: ["float", 0, 1] / ["int", 1, 9, "log"] are ranges, other lists are choices
    return {k: tuple(v) if isinstance(v, list) and v and v[0] in ("float", "int") else v for k, v in data.items()}


def _trial_json(trial: Any) -> dict[str, Any]:
    return {"number": trial.number, "config": dict(trial.config), "budget": trial.budget, "status": trial.status,
            "values": trial.values}


def _study(args: argparse.Namespace) -> Any:
    from autolearn.tune import load_study

    return load_study(args.storage, args.name)


def cmd_create(args: argparse.Namespace) -> int:
    from autolearn.cli import dump_json
    from autolearn.tune import create_study

    kwargs = json.loads(args.optimizer_kwargs) if args.optimizer_kwargs else {}
    study = create_study(_space(args.space), args.optimizer, directions=args.directions, storage=args.storage,
                         name=args.name, seed=args.seed, scheduler=args.scheduler, **kwargs)
    dump_json({"study": study.name, "storage": args.storage})
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from autolearn.cli import dump_json

    dump_json(_trial_json(_study(args).ask()))
    return 0


def cmd_tell(args: argparse.Namespace) -> int:
    from autolearn.cli import dump_json

    values = None if args.values is None else [float(v) for v in args.values]
    trial = _study(args).tell(args.trial, values, status=args.status, error=args.error or "")
    dump_json(_trial_json(trial))
    return 0


def cmd_best(args: argparse.Namespace) -> int:
    from autolearn.cli import dump_json

    study = _study(args)
    if len(study.directions) > 1:
        dump_json([_trial_json(t) for t in study.pareto_front()])
    else:
        dump_json(_trial_json(study.best_trial))
    return 0


def cmd_trials(args: argparse.Namespace) -> int:
    from autolearn.cli import dump_json

    dump_json([_trial_json(t) for t in _study(args).trials])
    return 0


def add_tune_parser(sub: Any) -> None:
    tune = sub.add_parser("tune", help="drive a hyperparameter study over a storage URL")
    verbs = tune.add_subparsers(dest="verb", required=True)

    def verb(name: str, func: Any, help: str) -> argparse.ArgumentParser:
        p = verbs.add_parser(name, help=help)
        p.add_argument("--storage", required=True, help="SQLite path or SQLAlchemy URL")
        p.add_argument("--name", help="study name (optional when the storage holds one study)")
        p.set_defaults(func=func)
        return p

    create = verb("create", cmd_create, "create a study")
    create.add_argument("--space", required=True, help="JSON file or string")
    create.add_argument("--optimizer", default="gp")
    create.add_argument("--optimizer-kwargs", help="JSON object of optimizer options")
    create.add_argument("--scheduler")
    create.add_argument("--directions", nargs="+", default=["minimize"])
    create.add_argument("--seed", type=int)
    verb("ask", cmd_ask, "print a new trial as JSON")
    tell = verb("tell", cmd_tell, "report a trial's values")
    tell.add_argument("--trial", type=int, required=True)
    tell.add_argument("--values", nargs="+")
    tell.add_argument("--status", choices=["success", "failed", "pruned"])
    tell.add_argument("--error")
    verb("best", cmd_best, "print the best trial (the Pareto front for several objectives)")
    verb("trials", cmd_trials, "print every trial")
