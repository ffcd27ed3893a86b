"""Whole-proof mode on real Coq: scripts checked step by step, Coq's first error and the state there fed
back, repairs up to K rounds, only coqc-verified proofs reported; and the same through `run_job` with
an `openai:` generator whose server is a scripted fake (the model side only)."""

from __future__ import annotations

import pytest
import ray
from serve_helpers import FakeServer, completion

from proofsmith.envs.base import TheoremRef
from proofsmith.envs.coq import CoqEnvironment
from proofsmith.prover.benchmark import load_benchmark
from proofsmith.prover.distributed import JobConfig, run_job
from proofsmith.prover.results import read_results
from proofsmith.prover.search import SearchConfig
from proofsmith.prover.status import SearchStatus
from proofsmith.prover.whole_proof import WholeProofConfig, check_script, proof_steps, whole_proof_search

ADD0 = "Require Import Lia.\nTheorem add0 : forall n : nat, n + 0 = n.\nProof.\nAdmitted.\n"


class RepairDouble:
    """The model side of the loop, deterministic: seeded broken proofs, and fixes of the sentence Coq
    names (recorded, with the error and state it was shown)."""

    def __init__(self, proofs: list[str], fixes: dict[str, str]):
        self.proofs, self.fixes = proofs, fixes
        self.shown: list[tuple[str, str, str]] = []

    def generate_proofs(self, statement, num):
        assert statement == "Theorem add0 : forall n : nat, n + 0 = n."
        return [(p, -float(i)) for i, p in enumerate(self.proofs[:num])]

    def repair_proofs(self, statement, proof, sentence, message, state, num):
        self.shown.append((sentence, message, state))
        if sentence not in self.fixes:
            return []
        return [(proof.replace(sentence, self.fixes[sentence], 1), -1.0)]


@pytest.fixture(scope="module")
def env():
    e = CoqEnvironment(tactic_timeout=10)
    yield e
    e.close()


@pytest.fixture
def add0(tmp_path) -> TheoremRef:
    f = tmp_path / "add0.v"
    f.write_text(ADD0)
    return TheoremRef.from_file(f, "add0")


def cfg(rounds: int, proofs: int = 1) -> WholeProofConfig:
    return WholeProofConfig(num_proofs=proofs, repair_rounds=rounds, theorem_timeout=60, tactic_timeout=10)


def test_proof_steps_group_bullets_and_drop_proof_qed():
    script = "Proof.\nsplit.\n- exact I.\n- { auto. }\nQed."
    assert proof_steps(script) == ["split.", "- exact I.", "- { auto.", "}"]
    assert proof_steps("intros; lia") == ["intros; lia"]


def test_check_reports_coqs_first_error_and_the_state_there(env, add0):
    root = env.start(add0)
    import time

    checked = check_script(env, root, "intros n. simpl. reflexivity. lia.", 10, time.monotonic() + 60)
    fb = checked.feedback
    assert checked.proof is None and fb is not None
    assert fb.sentence == "reflexivity."
    assert "n + 0" in fb.message or "unify" in fb.message  # Coq's own words
    assert "n : nat" in fb.state and "⊢ n + 0 = n" in fb.state  # the state before the failing step
    incomplete = check_script(env, root, "intros n.", 10, time.monotonic() + 60).feedback
    assert incomplete is not None and "incomplete" in incomplete.message and "⊢ n + 0 = n" in incomplete.state


def test_repair_loop_fixes_a_seeded_broken_proof(env, add0):
    model = RepairDouble(["intros n. reflexivity."], {"reflexivity.": "lia."})
    row = whole_proof_search(env, add0, model, cfg(rounds=2))
    assert row["status"] == SearchStatus.PROVED and row["mode"] == "whole-proof"
    assert row["proof"] == ["intros n.", "lia."]
    assert row["verify_reasons"] == [] or all("axiom" not in r.lower() for r in row["verify_reasons"])
    sentence, message, state = model.shown[0]  # what the model was shown: Coq's error, the real state
    assert sentence == "reflexivity." and message and "⊢ n + 0 = n" in state
    logs = row["scripts"]
    assert [(x["round"], x["verified"]) for x in logs] == [(0, False), (1, True)]
    assert logs[0]["sentence"] == "reflexivity."
    assert row["env_calls"] >= 3 and row["expansions"] == 2 and row["verify_seconds"] > 0  # budgets recorded


def test_k_rounds_bound_the_repairs(env, add0):
    """Two wrong sentences need two repair rounds: K=1 fails, K=2 proves."""
    two_errors = "intros n. exact I. reflexivity."
    model = RepairDouble([two_errors], {"exact I.": "idtac.", "reflexivity.": "lia."})
    one = whole_proof_search(env, add0, model, cfg(rounds=1))
    assert one["status"] == SearchStatus.FAILED and [s["sentence"] for s in one["scripts"]] == [
        "exact I.",
        "reflexivity.",
    ]
    model = RepairDouble([two_errors], {"exact I.": "idtac.", "reflexivity.": "lia."})
    two = whole_proof_search(env, add0, model, cfg(rounds=2))
    assert two["status"] == SearchStatus.PROVED and two["proof"] == ["intros n.", "idtac.", "lia."]


def test_admit_is_never_a_proof(env, add0):
    model = RepairDouble(["intros n. reflexivity."], {"reflexivity.": "admit."})
    row = whole_proof_search(env, add0, model, cfg(rounds=3))
    assert row["status"] == SearchStatus.FAILED and row["proof"] is None
    assert any("admit" in s["message"] or "refused" in s["message"] for s in row["scripts"][1:])


def test_invalid_statement(env, tmp_path):
    f = tmp_path / "bad.v"
    f.write_text("Theorem bad : forall n : nat, n + true = n.\nProof.\nAdmitted.\n")
    row = whole_proof_search(env, TheoremRef.from_file(f, "bad"), RepairDouble([], {}), cfg(rounds=1))
    assert row["status"] == SearchStatus.INVALID_STATEMENT


# ------------------------------------------------------------------ through Ray, an openai: generator
def fake_prover(body: dict):
    """Whole proofs: a broken one first; the fix once the prompt shows Coq's error at `reflexivity.`."""
    prompt = body["prompt"]
    if "fails at `reflexivity.`" in prompt and "⊢ n + 0 = n" in prompt:
        return (200, completion(["intros n. lia."]), {}, 0.0)
    if prompt.endswith("Proof.\n"):
        return (200, completion(["intros n. reflexivity."] * body["n"]), {}, 0.0)
    return (200, completion(["auto."]), {}, 0.0)


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, object_store_memory=128 * 1024**2)
    yield
    ray.shutdown()


def test_run_job_whole_proof_mode_with_an_openai_generator(local_ray, tmp_path):
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "add0.v").write_text(ADD0)
    with FakeServer([fake_prover]) as s:
        job = JobConfig(
            generator=f"openai:fake@{s.url}#backoff=0&retries=1",
            workers=1,
            mode="whole-proof",
            num_proofs=1,
            repair_rounds=1,
            search=SearchConfig(theorem_timeout=60),
        )
        rows = run_job(load_benchmark(bench), tmp_path / "r.jsonl", job)
    assert len(rows) == 1 and rows[0]["status"] == "proved", rows
    assert rows[0]["proof"] == ["intros n.", "lia."] and rows[0]["mode"] == "whole-proof"
    assert read_results(tmp_path / "r.jsonl")[0]["key"] == rows[0]["key"]
    assert job.results_config()["mode"] == "whole-proof" and "mode" not in JobConfig().results_config()
