"""Statuses are enums shared by search, results and report; on disk they stay the same strings."""

import dataclasses
import json

import pytest

from proofsmith.prover.distributed import JobConfig
from proofsmith.prover.report import summarize
from proofsmith.prover.results import ResultsFile, read_results
from proofsmith.prover.search import Attempt, SearchConfig, SearchResult
from proofsmith.prover.status import AttemptOutcome, SearchStatus


def test_status_values_are_the_strings_on_disk():
    assert [s.value for s in SearchStatus] == ["proved", "failed", "timeout", "error", "invalid_statement"]
    assert {o.value for o in AttemptOutcome} == {
        "state", "duplicate", "error", "refused", "given_up", "circular", "proof", "rejected_proof", "crash",
    }  # fmt: skip
    assert f"{SearchStatus.PROVED}" == str(SearchStatus.PROVED) == "proved"


def test_rows_dump_byte_identical_and_old_files_load(tmp_path):
    row = SearchResult("t", SearchStatus.PROVED, ["lia."], 1.5).to_json()
    plain = {**row, "status": "proved"}
    assert json.dumps(row, ensure_ascii=False) == json.dumps(plain, ensure_ascii=False)
    attempt = dataclasses.asdict(Attempt(0, "lia.", -0.1, AttemptOutcome.REJECTED_PROOF))
    assert json.dumps(attempt) == json.dumps({**attempt, "outcome": "rejected_proof"})
    out = tmp_path / "r.jsonl"
    with ResultsFile(out) as rf:
        rf.append({"key": "a", **row})
        rf.append({"key": "b", "theorem": "u", "status": "invalid_statement", "seconds": 0.1})  # an old row
    rows = read_results(out)
    assert (
        rows[0]["status"] == SearchStatus.PROVED and SearchStatus(rows[1]["status"]) is SearchStatus.INVALID_STATEMENT
    )
    s = summarize(rows)
    assert (s.total, s.valid, s.proved, s.invalid) == (2, 1, 1, ["u"])


def test_configs_are_frozen_and_replace_rejects_unknown_fields():
    cfg = SearchConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.theorem_timeout = 1.0  # type: ignore[misc]
    assert dataclasses.replace(cfg, theorem_timeout=3.0).theorem_timeout == 3.0
    with pytest.raises(TypeError):
        dataclasses.replace(cfg, timeout=3.0)  # the old name
    job = JobConfig(search=cfg)
    assert dataclasses.replace(job, workers=4).results_config() == job.results_config()  # workers: same results
    assert dataclasses.replace(job, generator="knn:x").results_config() != job.results_config()
