"""The adversarial tables for Lean, Isabelle and F* (no live prover here): the filters refuse what
they must and keep honest steps; Lean's environment, driven through the transcript server, sends
nothing for a refused tactic and finishes its proof afterwards; `native_decide`/`sorryAx` proofs
fail Lean's `#print axioms` audit."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from proofsmith.envs.base import ProofFinished, TacticRefused, TacticState, TheoremRef
from proofsmith.envs.fstar.candidates import check_candidate
from proofsmith.envs.isabelle.steps import check_step
from proofsmith.envs.lean import LeanEnvironment
from proofsmith.envs.lean import messages as lean_messages
from proofsmith.envs.lean.environment import _axiom_problems
from proofsmith.envs.lean.tactic_filter import check_tactic as lean_check

from .cases import ACCEPTED, FSTAR_CASES, ISABELLE_CASES, LEAN_CASES, REFUSED, Case

LEAN_TESTS = Path(__file__).resolve().parents[1] / "lean"


def _lean_fake_module():
    """tests/lean/conftest.py (the transcript server's config), loaded by path: its name clashes."""
    if str(LEAN_TESTS) not in sys.path:
        sys.path.insert(0, str(LEAN_TESTS))  # it imports fake_repl from its own folder
    spec = importlib.util.spec_from_file_location("lean_test_conftest", LEAN_TESTS / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("case", LEAN_CASES, ids=lambda c: c.name)
def test_adversarial_lean_filter(case: Case):
    why = lean_check(case.tactic)
    assert (REFUSED if why else ACCEPTED) == case.expect, why


@pytest.mark.parametrize("case", ISABELLE_CASES, ids=lambda c: c.name)
def test_adversarial_isabelle_filter(case: Case):
    check = check_step(case.tactic)
    assert (ACCEPTED if check.ok else REFUSED) == case.expect, check.reason
    assert not check.gives_up


@pytest.mark.parametrize("case", FSTAR_CASES, ids=lambda c: c.name)
def test_adversarial_fstar_filter(case: Case):
    check = check_candidate(case.tactic)
    assert (ACCEPTED if check.ok else REFUSED) == case.expect, check.reason


def test_adversarial_lean_env_refuses_without_sending_and_still_proves(tmp_path):
    fake = _lean_fake_module().FakeRepl(tmp_path)
    thm = TheoremRef.from_statement(
        "theorem complex_and (p q r : Prop) (h1 : p ∧ q) (h2 : q → r) : p ∧ r := by sorry",
        name="thm",
        header="",
        backend="lean",
    )
    with LeanEnvironment(fake.config("proof_branching")) as env:
        s0 = env.start(thm)
        sent = fake.sent()
        for case in LEAN_CASES:
            if case.expect == REFUSED:
                assert isinstance(env.run_tactic(s0, case.tactic), TacticRefused), case.name
        assert fake.sent() == sent, "a refused tactic reached the REPL"
        s1 = env.run_tactic(s0, "apply And.intro")
        s2 = env.run_tactic(s1, "exact h1.left")
        s3 = env.run_tactic(s2, "apply h2")
        assert isinstance(s3, TacticState)
        assert isinstance(env.run_tactic(s3, "exact h1.right"), ProofFinished)


def _axioms_reply(text: str) -> lean_messages.Response:
    return lean_messages.parse_response(
        {
            "env": 3,
            "messages": [
                {"severity": "info", "pos": {"line": 1, "column": 0}, "endPos": {"line": 1, "column": 6}, "data": text}
            ],
        }
    )


@pytest.mark.parametrize("axiom", ["Lean.ofReduceBool", "sorryAx", "cheat"])
def test_adversarial_lean_axiom_audit_rejects(axiom: str):
    reply = _axioms_reply(f"'thm' depends on axioms: [propext, {axiom}]")
    axioms, problems = _axiom_problems(reply, ("propext", "Classical.choice", "Quot.sound"))
    assert axiom in axioms and problems and axiom in problems[0]


def test_adversarial_lean_axiom_audit_accepts_standard_axioms():
    reply = _axioms_reply("'thm' depends on axioms: [propext, Classical.choice, Quot.sound]")
    assert _axiom_problems(reply, ("propext", "Classical.choice", "Quot.sound"))[1] == []
