"""``autolearn report`` and ``autolearn dashboard`` through the parser hook autolearn/cli.py calls."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from autolearn.report.cli import add_report_parser

LAUNCHER = """
import argparse, sys
from autolearn.report.cli import add_report_parser
parser = argparse.ArgumentParser(prog="autolearn")
add_report_parser(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
sys.exit(args.func(args))
"""


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="autolearn")
    add_report_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_report_command_writes_the_file(clf_run, clf_data, tmp_path: Path, capsys):
    model, run_dir = clf_run
    model.save(tmp_path / "model.pkl")
    _, _, X_test, y_test = clf_data
    test_csv = tmp_path / "test.csv"
    X_test.assign(label=y_test).to_csv(test_csv, index=False)
    args = _parse(["report", str(tmp_path / "model.pkl"), "-o", str(tmp_path / "r.html"), "--test", str(test_csv),
                   "--target", "label"])
    assert args.func(args) == 0
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Model on test data" in text and "report written to" in capsys.readouterr().out
    args = _parse(["report", str(run_dir), "-o", str(tmp_path / "run.html")])
    assert args.func(args) == 0 and (tmp_path / "run.html").exists()


def test_report_command_errors(tmp_path: Path):
    args = _parse(["report", str(tmp_path / "missing"), "-o", str(tmp_path / "r.html")])
    with pytest.raises(FileNotFoundError):
        args.func(args)
    args = _parse(["report", str(tmp_path), "--test", "t.csv"])
    with pytest.raises(ValueError, match="--target"):
        args.func(args)


def test_dashboard_defaults():
    args = _parse(["dashboard", "run"])
    assert args.host is None and args.port == 8765


def test_dashboard_command_serves_until_stopped(clf_run):
    process = subprocess.Popen([sys.executable, "-c", LAUNCHER, "dashboard", str(clf_run[1]), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert "http://127.0.0.1:" in line, process.stderr.read()
        url = line.split(" on ")[1].split(" ")[0]
        with urllib.request.urlopen(url + "api/run.json", timeout=60) as response:
            assert json.load(response)["metric"] == "roc_auc"
    finally:
        process.terminate()
        process.wait(timeout=30)
