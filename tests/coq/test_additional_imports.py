"""`additional_imports` never change how a theorem's own file prefix is read (issue 16: `Zis_gcd_gcd` and
`Zdivide_Zgcd` of ZArith's Znumtheory did not start under `proofsmith eval --generator auto`).

The cause: `From Coq Require Import Lra` (the automation generator's first import) loads `Coq.ZArith.ZArith`,
whose `ZArith_hints` add `Hint Extern 10 (_ < _) => abstract lia : zarith`. Put before the file, that hint let
`intuition` (which runs `auto with *`) close one more goal in the proof of `prime_divisors`, so the proof's
next sentence failed ("No such goal"), `prime_divisors` was never defined, and a later proof naming it broke
the start. The imports now come after the prefix, just before the statement, live and in `verify` alike.
The file below is that reproduction, reduced; real Coq throughout."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from proofsmith.envs.base import ProofFinished, TheoremRef
from proofsmith.envs.coq import CoqEnvironment
from proofsmith.envs.coq.source import locate

IMPORTS = ("From Coq Require Import Lia Lra Psatz.",)  # the first line of the automation generator's imports

# With ZArith's hints in scope, `auto with zarith` closes the first goal of `helper`, the bullets no longer match,
# `helper` is never defined and the `Notation` naming it fails: the start of every later theorem fails.
REPRO = textwrap.dedent(
    """\
    Require Import ZArith_base.
    Local Open Scope Z_scope.

    Lemma helper (a b : Z) : a < b -> a < b + 1 /\\ True.
    Proof.
      intros H. split.
      auto with zarith.
      - apply Z.lt_trans with b; [exact H | apply Z.lt_succ_diag_r].
      - exact I.
    Qed.

    Notation helper_alias := helper (only parsing).

    Lemma uses_helper (x : Z) : x < x + 1 + 1.
    Proof.
      case (helper_alias x (x + 1)).
      - apply Z.lt_succ_diag_r.
      - intros H _. exact H.
    Qed.

    Section Sec.
      Variable z : Z.
      Lemma in_section : z + 0 = z.
      Proof. apply Z.add_0_r. Qed.
    End Sec.

    Module Type Sig.
      Parameter t : Z.
    End Sig.

    Module Type Props (Import S : Sig).
      Lemma in_functor : t < t + 1 + 1.
      Proof. apply (helper t (t + 1)). apply Z.lt_succ_diag_r. Qed.
    End Props.
    """
)


@pytest.fixture()
def repro(tmp_path: Path) -> Path:
    p = tmp_path / "Repro.v"
    p.write_text(REPRO, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def env():
    with CoqEnvironment(tactic_timeout=20, additional_imports=IMPORTS) as e:
        yield e


def test_the_imports_come_after_the_prefix_live_and_in_verify(repro):
    source = locate(TheoremRef.from_file(repro, "uses_helper"))
    assert source.context(IMPORTS)[-1] == IMPORTS[0]
    assert source.context(IMPORTS)[:-1] == tuple(s.text for s in source.prefix)
    text = source.context_text(IMPORTS)
    assert text.startswith(source.prefix_text) and text.rstrip().endswith(IMPORTS[0])
    assert source.context_text() == source.prefix_text  # no imports: the file as it is


def test_imports_before_the_file_would_break_its_prefix(repro, tmp_path):
    """The reproduction holds: with the imports in front the file does not compile (`helper`'s proof fails)."""
    import subprocess

    front = tmp_path / "Front.v"
    front.write_text(IMPORTS[0] + "\n" + REPRO, encoding="utf-8")
    res = subprocess.run(["nice", "-n", "19", "coqc", "-q", front.name], cwd=tmp_path, capture_output=True, text=True)
    bullet = 1 + front.read_text().splitlines().index(
        "  - apply Z.lt_trans with b; [exact H | apply Z.lt_succ_diag_r]."
    )
    assert res.returncode != 0 and f'"./Front.v", line {bullet},' in res.stdout + res.stderr  # in `helper`'s proof
    res = subprocess.run(["nice", "-n", "19", "coqc", "-q", repro.name], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_a_theorem_after_the_sensitive_proof_starts_and_verifies_with_imports(env, repro):
    ref = TheoremRef.from_file(repro, "uses_helper")
    s0 = env.start(ref)
    assert s0.pp == "x : Z\n⊢ x < x + 1 + 1"
    done = env.run_tactic(s0, "lia.")  # the imports are in scope at the theorem
    assert isinstance(done, ProofFinished)
    verdict = env.verify(ref, done.proof)
    assert verdict.verified, verdict.reasons
    # the file's own proof checks the same way
    own = ["case (helper_alias x (x + 1)).", "- apply Z.lt_succ_diag_r.", "- intros H _. exact H."]
    assert env.verify(ref, own).verified


@pytest.mark.parametrize(
    "name, goal, proof",
    [
        ("in_section", "z : Z\n⊢ z + 0 = z", "lia."),
        ("in_functor", "⊢ t < t + 1 + 1", "apply (helper t (t + 1)); lia."),
    ],
)
def test_imports_inside_a_section_or_functor_body(env, repro, name, goal, proof):
    """There the imports are a `Require` inside a section or module type: allowed (a warning), scoped to it."""
    ref = TheoremRef.from_file(repro, name)
    state = env.start(ref)
    assert state.pp == goal
    assert isinstance(env.run_tactic(state, proof), ProofFinished)
    if name == "in_section":  # (the audit cannot name a field of a module type: `Print Assumptions` fails there)
        verdict = env.verify(ref, [proof])
        assert verdict.verified, verdict.reasons


def test_znumtheory_theorems_after_prime_divisors_start_with_the_automation_imports():
    """The issue's two theorems, in the installed stdlib, with the `auto` generator's imports."""
    from proofsmith.prover.generators.automation import AUTOMATION_IMPORTS

    path = Path("/usr/lib/ocaml/coq/theories/ZArith/Znumtheory.v")
    with CoqEnvironment(additional_imports=AUTOMATION_IMPORTS) as env:
        gcd = env.start(TheoremRef.from_file(path, "Coq.ZArith.Znumtheory.Zis_gcd_gcd"))
        assert gcd.pp == "⊢ forall a b c : Z, 0 <= c -> Zis_gcd a b c -> Z.gcd a b = c"
        divide = env.start(TheoremRef.from_file(path, "Coq.ZArith.Znumtheory.Zdivide_Zgcd"))
        assert divide.pp == "⊢ forall p q r : Z, (p | q) -> (p | r) -> (p | Z.gcd q r)"
