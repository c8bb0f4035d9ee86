"""``autolearn report`` and ``autolearn dashboard``; ``autolearn/cli.py`` registers them with
:func:`add_report_parser`. The heavy imports (matplotlib, the model) happen only when a command runs."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def cmd_report(args: argparse.Namespace) -> int:
    """Write the HTML report of a saved model (``.pkl``), a run directory or a storage URL."""
    from autolearn.report.html import write_report

    X_test = y_test = None
    if args.test is not None:
        if args.target is None:
            raise ValueError("--test needs --target, the name of the column to predict")
        from autolearn.data import load_table

        X_test, y_test = load_table(args.test, target=args.target)
    path = write_report(args.source, args.output, X_test, y_test, study=args.study, title=args.title)
    print(f"report written to {path}")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Serve the live dashboard until interrupted (Ctrl-C)."""
    from autolearn.report.dashboard import Dashboard

    try:
        dashboard = Dashboard(args.source, args.host or "127.0.0.1", args.port, allow_remote=args.host is not None,
                              study=args.study, verbose=args.verbose)
    except OSError as e:  # the port is taken, the address is not ours...
        raise ValueError(f"cannot serve on {args.host or '127.0.0.1'}:{args.port}: {e.strerror or e}") from e
    print(f"autolearn dashboard on {dashboard.url} (read-only; Ctrl-C to stop)", flush=True)
    if args.host is not None and dashboard.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: serving on {args.host}: anyone who can reach this address sees the run", file=sys.stderr)
    try:
        dashboard.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def add_report_parser(subparsers: Any) -> None:
    """Register ``report`` and ``dashboard`` on the ``autolearn`` command's subparsers."""
    report = subparsers.add_parser("report", help="write a self-contained HTML report of a search")
    report.add_argument("source", help="a saved model (.pkl), a run directory or a storage URL")
    report.add_argument("-o", "--output", default="report.html", help="HTML file to write (default report.html)")
    report.add_argument("--test", help="a table of held-out rows (CSV/Parquet/ARFF) for the model plots")
    report.add_argument("--target", help="the target column of --test")
    report.add_argument("--study", help="study name, for a storage holding several")
    report.add_argument("--title")
    report.set_defaults(func=cmd_report)

    dash = subparsers.add_parser("dashboard", help="serve a live, read-only dashboard of a search")
    dash.add_argument("source", help="a run directory, a SQLite file, a storage URL or a saved model (.pkl)")
    dash.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    dash.add_argument("--host", default=None,
                      help="address to bind (default 127.0.0.1; a non-loopback address exposes the run)")
    dash.add_argument("--study", help="study name, for a storage holding several")
    dash.add_argument("--verbose", action="store_true", help="log every request")
    dash.set_defaults(func=cmd_dashboard)


__all__ = ["add_report_parser", "cmd_dashboard", "cmd_report"]
