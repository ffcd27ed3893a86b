"""Expert iteration (`proofsmith iterate`): harvest, rebuilt k-NN, resume after a kill, mutant gate.

Real Coq and Ray (one worker). The pool of the k-NN test is built so that round 0 cannot prove t2
and round 1 must: G_0 is a k-NN over one unrelated example whose tactic `apply c.` is renamed by
position into the theorem's context. In t1 (context `b, key_lemma`) it becomes `apply key_lemma.`
(a hypothesis there) and proves t1; in t2 (context `m`) it stays `apply c.` and fails. The harvest
of t1 teaches `apply key_lemma.`, which t2's context (one name) leaves as is: the global lemma
`key_lemma` of t2's file proves it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import ray

from proofsmith.dataset.corpus import Corpus
from proofsmith.dataset.loading import load_dataset_dict, load_splits, tactic_pairs, write_dataset
from proofsmith.dataset.schema import TheoremRecord, TracedTactic
from proofsmith.prover.benchmark import benchmark_half, load_benchmark, load_split
from proofsmith.prover.harvest import harvest
from proofsmith.prover.iterate import IterateConfig, admit_mutants, mutate_proofs, run_iterate
from proofsmith.prover.search import SearchConfig

T1 = """Definition P (n : nat) : Prop := n + 0 = n.
Theorem t1 (b : nat) (key_lemma : forall n, P n) : P b.
Proof.
Admitted.
"""
T2 = """Definition P (n : nat) : Prop := n + 0 = n.
Lemma key_lemma : forall n, P n.
Proof. intros n. unfold P. induction n; simpl; [reflexivity | rewrite IHn; reflexivity]. Qed.
Theorem t2 (m : nat) : P m.
Proof.
Admitted.
"""
TWO_STEP = """Theorem t3 : forall p q : Prop, p -> q -> p /\\ q.
Proof.
Admitted.
"""


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, object_store_memory=128 * 1024**2)
    yield
    ray.shutdown()


def write_pool(d: Path, files: dict[str, str]) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (d / f"{name}.v").write_text(text)
    return d


def unrelated_base(d: Path) -> Path:
    """One traced example: a state with two context names, closed by `apply c.`"""
    step = TracedTactic("apply c.", ("apply c.", ()), "b, c : bool\n⊢ b = c", "no goals")
    rec = TheoremRecord("", "", "Other.v", "Other.o1", (1, 1), None, (step,), "Lemma o1 ...", "coq")
    write_dataset(d, [rec], Corpus([]), {"backend": "coq"}, num_eval=0)
    return d


def test_benchmark_half_is_stable_and_splits_both_ways():
    names = [f"thm_{i}" for i in range(200)]
    halves = [benchmark_half(n) for n in names]
    assert set(halves) == {"A", "B"} and 60 < halves.count("A") < 140
    assert halves == [benchmark_half(n) for n in names]  # stable
    assert benchmark_half("mathd_algebra_10") == (
        "A" if __import__("hashlib").sha256(b"mathd_algebra_10").digest()[0] % 2 == 0 else "B"
    )


def test_harvest_proved_row_gives_per_step_states_that_load(tmp_path):
    pool = write_pool(tmp_path / "pool", {"t3": TWO_STEP, "t2": T2})
    thms = {t.key: t for t in load_benchmark(pool)}
    k3 = next(k for k in thms if k.endswith("::t3"))
    k2 = next(k for k in thms if k.endswith("::t2"))
    rows = [
        {
            "key": k3,
            "theorem": "t3",
            "status": "proved",
            "proof": ["intros p q Hp Hq.", "split.", "exact Hp.", "exact Hq."],
        },
        {"key": k2, "theorem": "t2", "status": "proved", "proof": ["exact I."]},  # does not replay: skipped
        {"key": k2, "theorem": "t2", "status": "failed", "proof": None},
    ]
    stats = harvest(rows, thms, tmp_path / "harvested", tactic_timeout=20)
    assert (stats.harvested, stats.multi_step, stats.steps) == (1, 1, 4), stats
    assert [s["theorem"] for s in stats.skipped] == [k2]
    (rec,) = load_splits(tmp_path / "harvested")["train"]
    assert rec.full_name == "t3" and [t.tactic for t in rec.traced_tactics][0] == "intros p q Hp Hq."
    first, *_, last = rec.traced_tactics
    assert "forall p q : Prop" in first.state_before and "Hp : p" in first.state_after
    assert last.state_after == "no goals" and "⊢ q" in last.state_before
    for a, b in zip(rec.traced_tactics, rec.traced_tactics[1:]):
        assert a.state_after.split("\n\n")[0] in b.state_before or a.state_after.startswith(b.state_before[:10])
    ds = load_dataset_dict(tmp_path / "harvested")
    assert ds["train"].num_rows == 1 and ds["val"].num_rows == 0
    assert len(list(tactic_pairs([rec]))) == 4
    (again,) = load_split(tmp_path / "harvested", "random/train")  # records resolve to their sources
    assert again.ref.name == "t3" and again.ref.file_path == (pool / "t3.v").resolve()


def test_expert_iteration_rebuilt_knn_proves_what_round_0_could_not(tmp_path):
    pool = write_pool(tmp_path / "pool", {"t1": T1, "t2": T2})
    base = unrelated_base(tmp_path / "base")
    cfg = IterateConfig(
        pool=pool,
        base_data=base,
        generator=f"knn:{base}",
        rounds=2,
        search=SearchConfig(theorem_timeout=30, tactic_timeout=5),
        workers=1,
        half="all",
    )
    stats = run_iterate(cfg, tmp_path / "out")
    r0, r1 = stats
    rows0 = {
        r["theorem"]: r["status"]
        for r in map(json.loads, (tmp_path / "out/round_0/results.jsonl").read_text().splitlines())
    }
    assert rows0 == {"t1": "proved", "t2": "failed"}, rows0
    assert (r0["proved"], r0["new_proofs"], r0["harvested_steps"], r0["knn_examples"]) == (1, 1, 1, 2)
    assert r1["pool"] == 1 and r1["proved"] == 1 and r1["proved_total"] == 2, r1
    assert "knn:" in r1["generator"] and "round_0/knn" in r1["generator"]
    row = json.loads((tmp_path / "out/round_1/results.jsonl").read_text().splitlines()[0])
    assert row["theorem"] == "t2" and row["proof"] == ["apply key_lemma."]
    saved = json.loads((tmp_path / "out/rounds.json").read_text())
    assert [s["proved_total"] for s in saved] == [1, 2]
    assert (tmp_path / "out/proved_vs_round.png").stat().st_size > 1000


def test_iterate_resumes_after_sigkill_without_redoing_finished_rounds(tmp_path):
    pool = write_pool(tmp_path / "pool", {"t1": T1, "t2": T2, "t3": TWO_STEP})
    base = unrelated_base(tmp_path / "base")
    out = tmp_path / "out"
    argv = [
        sys.executable, "-m", "proofsmith.cli.main", "iterate", str(pool), "--out", str(out), "--rounds", "2",
        "--generator", f"knn:{base}", "--base-data", str(base), "--half", "all", "--workers", "1",
        "--theorem-timeout", "20", "--tactic-timeout", "5",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 150
        while time.time() < deadline and not (out / "round_1" / "generator.txt").is_file():
            assert proc.poll() is None, "iterate ended before it could be killed"
            time.sleep(0.2)
        assert (out / "round_0" / "stats.json").is_file()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and everything it started (Ray, coqidetop)
        proc.wait()
    assert not (out / "round_1" / "stats.json").is_file()
    marks = {p.name: p.stat().st_mtime_ns for p in (out / "round_0").glob("*.done")}
    results0 = (out / "round_0" / "results.jsonl").read_text()
    res = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stderr[-3000:]
    assert {p.name: p.stat().st_mtime_ns for p in (out / "round_0").glob("*.done")} == marks  # not redone
    assert (out / "round_0" / "results.jsonl").read_text() == results0
    rounds = json.loads((out / "rounds.json").read_text())
    assert [r["round"] for r in rounds] == [0, 1] and rounds[0].get("resumed") is True
    assert rounds[1]["proved_total"] == 2 and set(rounds[1]["seconds"]) == {"search", "harvest", "knn"}
    assert "round" in res.stdout and "proved" in res.stdout  # the final table


MUT_SRC = """Lemma add0 : forall n : nat, n + 0 = n.
Proof. intros n. induction n; simpl; [reflexivity | rewrite IHn; reflexivity]. Qed.
Theorem t4 : forall a : nat, (a + 0) + 0 = a.
Proof.
Admitted.
"""


def test_expert_mutant_enters_pool_only_after_coqc_verifies_it(tmp_path, monkeypatch):
    import proofsmith.mutation.pipeline as mp

    pool = write_pool(tmp_path / "pool", {"t4": MUT_SRC})
    (thm,) = load_benchmark(pool)
    real = mp.verify_mutants
    broken: list[str] = []

    def sabotage(text, placements, load_paths, **kw):
        # the first mutant that passed its live check gets a proof coqc rejects
        for ms in placements.values():
            if ms and not broken:
                ms[0].proof = ["exact I."]
                broken.append(ms[0].name)
        return real(text, placements, load_paths, **kw)

    monkeypatch.setattr(mp, "verify_mutants", sabotage)
    stats = mutate_proofs([(thm, ["intros a.", "rewrite add0.", "apply add0."])], tmp_path / "mut", max_targets=5)
    assert broken, "no mutant reached verification"
    chunks = [json.loads(p.read_text()) for p in (tmp_path / "mut/mutants/work/chunks").glob("*.json")]
    status = {m["name"]: m["status"] for c in chunks for m in c["mutants"]}
    assert status[broken[0]] == "rejected"
    admitted = {a["name"] for a in stats["admitted"]}
    assert broken[0] not in admitted
    assert admitted == {n for n, s in status.items() if s == "verified"} and admitted, status
    assert admitted == {a["name"] for a in admit_mutants(tmp_path / "mut/mutants")}
    # an admitted mutant loads as a pool theorem and starts in Coq
    from proofsmith.envs.coq import CoqEnvironment
    from proofsmith.prover.iterate import mutant_theorems

    env = CoqEnvironment()
    try:
        for t in mutant_theorems(stats["admitted"])[:2]:
            assert env.start(t.ref).pp
    finally:
        env.close()


def test_iterate_harvest_replays_with_the_imports_of_every_member():
    from proofsmith.prover.generators.automation import AUTOMATION_IMPORTS
    from proofsmith.prover.iterate import spec_imports

    assert spec_imports("knn:/some/index") == ()
    assert spec_imports("actions") == AUTOMATION_IMPORTS
    assert spec_imports("rerank:/policy:ensemble:auto+actions") == AUTOMATION_IMPORTS
    assert spec_imports("ensemble:knn:/a+auto") == AUTOMATION_IMPORTS
