"""The results log: lines survive a cut-off write; reruns skip finished keys only."""

import argparse
import json

import pytest

from benchmarks.automl import campaign
from benchmarks.automl.results import ResultsLog, new_record, read_results, result_key


def line(system, status="ok", dataset="d"):
    return {"system": system, "dataset": dataset, "seed": 0, "fold": 0, "budget": 10.0, "status": status,
            "score": float("nan")}


def test_append_reads_back_and_nan_becomes_null(tmp_path):
    log = ResultsLog(tmp_path / "results.jsonl")
    log.append(line("a"))
    text = (tmp_path / "results.jsonl").read_text()
    assert text.endswith("\n") and '"score": null' in text
    assert read_results(tmp_path / "results.jsonl")[0]["system"] == "a"


def test_a_line_cut_by_a_kill_is_skipped_and_the_next_append_starts_fresh(tmp_path):
    path = tmp_path / "results.jsonl"
    log = ResultsLog(path)
    log.append(line("a"))
    with open(path, "a") as fh:
        fh.write(json.dumps(line("b"))[:25])  # a write interrupted mid-line
    log.append(line("c"))
    assert [r["system"] for r in read_results(path)] == ["a", "c"]


def test_done_skips_finished_but_not_missing_peers(tmp_path):
    log = ResultsLog(tmp_path / "results.jsonl")
    for system, status in [("ok", "ok"), ("bad", "failed"), ("slow", "timeout"), ("absent", "not_installed")]:
        log.append(line(system, status))
    done = {k[0] for k in log.done()}
    assert done == {"ok", "bad", "slow"}
    assert {k[0] for k in log.done(retry=("failed",))} == {"ok", "slow"}


def test_redo_before_a_time_redoes_older_runs_and_resumes(tmp_path):
    log = ResultsLog(tmp_path / "results.jsonl")
    log.append({**line("old"), "started_at": "2026-12-07T10:00:00+00:00"})
    log.append({**line("new"), "started_at": "2026-12-07T16:30:00+00:00"})
    log.append(line("untimed"))  # a record without a start time counts as old
    assert {k[0] for k in log.done(redo_before="2026-12-07T16:00")} == {"new"}
    log.append({**line("old"), "started_at": "2026-12-07T16:05:00+00:00"})  # the redo's record replaces it
    assert {k[0] for k in log.done(redo_before="2026-12-07T16:00:00+00:00")} == {"new", "old"}
    assert {k[0] for k in log.done()} == {"old", "new", "untimed"}


def test_redo_before_must_be_a_time(capsys):
    p = argparse.ArgumentParser()
    campaign.add_arguments(p, "nas.txt", "out", 10.0)
    assert p.parse_args(["--redo-before", "2026-12-07T16:00"]).redo_before == "2026-12-07T16:00"
    with pytest.raises(SystemExit):
        p.parse_args(["--redo-before", "yesterday"])
    assert "ISO 8601" in capsys.readouterr().err


def test_new_record_is_keyed_and_failed_until_told_otherwise():
    record = new_record("auto", "phoneme", 2, 300, cores=2)
    assert result_key(record) == ("auto", "phoneme", 2, 0, 300.0)
    assert record["status"] == "failed" and record["version"] and record["started_at"].endswith("+00:00")
