"""Statements written for Rocq 9 (`From Stdlib Require ...`) load and verify on the Coq 8.x here."""

from proofsmith.envs.base import ProofFinished, TheoremRef
from proofsmith.envs.coq.compat import coq_major_version, for_installed_coq, stdlib_as_coq

ROCQ9_FILE = """From Stdlib Require Import Reals Lra.
Require Import Stdlib.micromega.Psatz.
Open Scope R_scope.
(* Stdlib in a comment stays *)
Theorem pfx : forall x : R, 0 <= x -> 0 <= x * x.
Proof.
Admitted.
"""


def test_compat_reads_the_stdlib_root_as_coq_in_load_sentences_only():
    out = stdlib_as_coq(ROCQ9_FILE)
    assert "From Coq Require Import Reals Lra." in out
    assert "Require Import Coq.micromega.Psatz." in out
    assert "(* Stdlib in a comment stays *)" in out
    assert stdlib_as_coq("Definition Stdlib := 1.") == "Definition Stdlib := 1."
    assert stdlib_as_coq("From Stdlib Require Import\n  ZArith.") == "From Coq Require Import\n  ZArith."


def test_compat_rewrites_only_before_rocq9():
    assert coq_major_version() == 8  # Debian's Coq 8.16 is what this machine runs
    assert for_installed_coq("From Stdlib Require Import Arith.") == "From Coq Require Import Arith."


def test_compat_rocq9_file_starts_and_verifies_on_coq8(env, tmp_path):
    path = tmp_path / "pfx.v"
    path.write_text(ROCQ9_FILE)
    thm = TheoremRef.from_file(path, "pfx")
    s0 = env.start(thm)
    done = env.run_tactic(s0, "intros x Hx; nra.")
    assert isinstance(done, ProofFinished), done
    verdict = env.verify(thm, done.proof)
    assert verdict.verified, verdict.reasons


def test_compat_rocq9_header_statement_starts(env):
    thm = TheoremRef.from_statement(
        "Theorem hz : forall z : Z, (z * z >= 0)%Z.", "hz", header="From Stdlib Require Import ZArith Lia."
    )
    done = env.run_tactic(env.start(thm), "intros z; nia.")
    assert isinstance(done, ProofFinished), done
