"""Ray prove jobs: 2 workers, a killed actor, resume, locking, always-parseable results."""

import json
import os
import signal
import threading
import time

import psutil
import pytest
import ray

from proofsmith.prover.benchmark import load_benchmark
from proofsmith.prover.distributed import JobConfig, run_job
from proofsmith.prover.report import summarize, write_report
from proofsmith.prover.results import ResultsFile, ResultsLockedError, read_results
from proofsmith.prover.search import SearchConfig

EASY = {
    "e1": "Require Import Arith.\nTheorem e1 : forall n : nat, n + 0 = n.\nProof.\nAdmitted.\n",
    "e2": "Theorem e2 : forall p q : Prop, p /\\ q -> q /\\ p.\nProof.\n",
    "e3": "Require Import Arith.\nTheorem e3 : forall a b : nat, a <= a + b.\nProof. Admitted.\n",
    "e4": "Require Import Reals.\nOpen Scope R_scope.\nTheorem e4 : forall x : R, 2 * x = 4 -> x = 2.\nProof.\nAdmitted.\n",
}
HARD = "Require Import Arith.\nTheorem h_{i} : forall x y z : nat, x * x * y + z * {i} = y * y * x + z * z.\nProof.\nAdmitted.\n"


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=128 * 1024**2)
    yield
    ray.shutdown()


def bench(tmp_path, files):
    d = tmp_path / "bench"
    d.mkdir()
    for name, text in files.items():
        (d / f"{name}.v").write_text(text)
    return load_benchmark(d)


def test_prove_job_two_workers_four_theorems_and_report(tmp_path):
    thms = bench(tmp_path, EASY)
    assert [t.ref.name for t in thms] == ["e1", "e2", "e3", "e4"]
    out = tmp_path / "results.jsonl"
    rows = run_job(thms, out, JobConfig(workers=2, search=SearchConfig(theorem_timeout=60)))
    assert sorted(r["theorem"] for r in rows) == ["e1", "e2", "e3", "e4"]
    assert all(r["status"] == "proved" and r["proof"] for r in rows), rows
    assert {r["worker"] for r in rows} == {0, 1}
    report = write_report(read_results(out), tmp_path / "report")
    assert "4/4 = 100.0%" in report.read_text() and (tmp_path / "report" / "proved_vs_budget.png").stat().st_size > 1000
    # a rerun appends nothing
    assert run_job(thms, out, JobConfig(workers=2)) == []
    assert len(read_results(out)) == 4


def _actor_pids():
    """Prover actors of *this* test's Ray (descendants of this process), never another job's."""
    pids = []
    for p in psutil.Process(os.getpid()).children(recursive=True):
        try:
            cmd = " ".join(p.cmdline())
        except psutil.Error:
            continue
        if cmd.startswith("ray::ProverWorker"):
            pids.append(p.pid)
    return pids


def test_prove_job_killed_actor_is_replaced_and_theorem_recorded_once(tmp_path):
    files = {f"h{i}": HARD.format(i=i) for i in range(1, 4)}
    thms = bench(tmp_path, files)
    out = tmp_path / "results.jsonl"
    killed = []

    def killer():
        deadline = time.time() + 60
        while time.time() < deadline and not killed:
            busy = [p for p in _actor_pids() if "prove" in " ".join(psutil.Process(p).cmdline())]
            if busy:
                time.sleep(1.0)
                os.kill(busy[0], signal.SIGKILL)
                killed.append(busy[0])
            time.sleep(0.2)

    t = threading.Thread(target=killer)
    t.start()
    rows = run_job(thms, out, JobConfig(workers=2, search=SearchConfig(theorem_timeout=6, tactic_timeout=2)))
    t.join()
    assert killed, "the test could not find a busy actor to kill"
    lines = read_results(out)
    assert sorted(r["theorem"] for r in lines) == ["h_1", "h_2", "h_3"]  # exactly one line each
    assert any(r["attempt"] == 1 for r in lines), [
        (r["theorem"], r["status"], r["attempt"], r.get("message", "")[:150]) for r in lines
    ]
    assert all(r["status"] in ("failed", "timeout") for r in rows), [r["status"] for r in rows]


def test_results_file_lock_and_torn_tail(tmp_path):
    out = tmp_path / "r.jsonl"
    out.write_text('{"key": "a", "status": "proved"}\n{"key": "b", "sta')
    with ResultsFile(out) as rf:
        assert rf.done_keys() == {"a"}
        with pytest.raises(ResultsLockedError):
            with ResultsFile(out):
                pass
        rf.append({"key": "c", "status": "failed"})
    rows = [json.loads(l) for l in out.read_text().splitlines()]
    assert [r["key"] for r in rows] == ["a", "c"]


def test_benchmark_loader_names_the_theorem_it_found(minif2f_valid_dir):
    thms = load_benchmark(minif2f_valid_dir)
    assert len(thms) == 244
    by_file = {t.ref.file_path.stem: t for t in thms}
    assert by_file["imo_1966_p5"].ref.name == "imo_1966_p5" and "matches" in by_file["imo_1966_p5"].note
    assert by_file["aime_1988_p3"].ref.name == "aime_1988_p3"  # helper Definition before it


def test_summary_excludes_invalid_statements():
    rows = [
        {"theorem": "a", "status": "proved", "seconds": 1},
        {"theorem": "b", "status": "invalid_statement"},
        {"theorem": "c", "status": "failed", "seconds": 2},
    ]
    s = summarize(rows)
    assert (s.proved, s.valid, s.invalid) == (1, 2, ["b"])


def test_eval_split_records_resolve_to_their_sources(tmp_path):
    from proofsmith.prover.benchmark import load_split, source_file

    src = tmp_path / "theories" / "Lists"
    src.mkdir(parents=True)
    (src / "L.v").write_text("Lemma l1 : True.\nProof. exact I. Qed.\n")
    assert source_file(src.as_uri(), "Coq/Lists/L.v") == src / "L.v"
    assert source_file("https://example.org/repo.git", "Coq/Lists/L.v") is None
    split = tmp_path / "data" / "random"
    split.mkdir(parents=True)
    (split / "test.json").write_text(
        json.dumps(
            [
                {
                    "url": src.as_uri(),
                    "commit": "",
                    "file_path": "Coq/Lists/L.v",
                    "full_name": "Coq.Lists.L.l1",
                    "start": [1, 1],
                    "end": [2, 20],
                    "traced_tactics": [],
                    "backend": "coq",
                }
            ]
        )
    )
    (thm,) = load_split(tmp_path / "data", "random/test")
    assert thm.ref.name == "l1" and thm.ref.file_path == (src / "L.v").resolve()
    with pytest.raises(ValueError, match="no split file"):
        load_split(tmp_path / "data", "novel_premises/test")


def test_prove_job_with_one_shared_generator_actor(tmp_path):
    thms = bench(tmp_path, {k: EASY[k] for k in ("e1", "e2", "e3")})
    out = tmp_path / "shared.jsonl"
    rows = run_job(thms, out, JobConfig(workers=2, shared_generator=True, search=SearchConfig(theorem_timeout=60)))
    assert sorted(r["theorem"] for r in rows) == ["e1", "e2", "e3"]
    assert all(r["status"] == "proved" for r in rows), [(r["theorem"], r["status"], r.get("message")) for r in rows]


def test_a_worker_killed_by_rays_memory_monitor_is_replaced_and_the_theorem_retried(tmp_path, monkeypatch):
    """Ray raises OutOfMemoryError (not RayActorError) from `ray.get` when its memory monitor killed
    the worker; the job must treat it as a crash, not die with it."""
    from ray.exceptions import OutOfMemoryError

    thms = bench(tmp_path, {"e1": EASY["e1"], "e3": EASY["e3"]})
    real_get = ray.get
    raised = []

    def get_once_oom(ref, *a, **kw):
        if not raised:
            raised.append(ref)
            raise OutOfMemoryError("2 worker(s) were killed due to the node running low on memory")
        return real_get(ref, *a, **kw)

    monkeypatch.setattr(ray, "get", get_once_oom)
    out = tmp_path / "results.jsonl"
    run_job(thms, out, JobConfig(workers=2, search=SearchConfig(theorem_timeout=60)))
    lines = read_results(out)
    assert raised and sorted(r["theorem"] for r in lines) == ["e1", "e3"]
    assert all(r["status"] == "proved" for r in lines), lines
    assert [r["attempt"] for r in lines].count(1) == 1
