"""The adversarial table against live Coq: each case gets its stated outcome, never a proof, and the
same session keeps working afterwards (no restart)."""

from __future__ import annotations

import pytest

from proofsmith.envs.base import ProofFinished, ProofGivenUp, TacticError, TacticRefused, TacticState, TheoremRef
from proofsmith.envs.coq import CoqEnvironment

from .cases import ACCEPTED, COQ_CASES, COQ_FIX_CASES, COQ_VERIFY_CASES, ERROR, GIVEN_UP, REFUSED, Case

ADD0 = TheoremRef.from_statement(
    "Theorem adv_add0 : forall n : nat, n + 0 = n.", "adv_add0", header="Require Import Arith Lia."
)
FALSE = TheoremRef.from_statement("Theorem adv_false : forall n : nat, False.", "adv_false", header="")


@pytest.fixture(scope="module")
def coq():
    with CoqEnvironment(tactic_timeout=5, verify_timeout=60) as env:
        yield env


def outcome(result: object) -> str:
    if isinstance(result, TacticRefused):
        return REFUSED
    if isinstance(result, ProofGivenUp):
        return GIVEN_UP
    if isinstance(result, TacticError):
        return ERROR
    if isinstance(result, TacticState):
        return ACCEPTED
    assert not isinstance(result, ProofFinished), f"an attack produced a proof: {result}"
    raise AssertionError(f"unexpected result {result!r}")


def assert_session_alive(env: CoqEnvironment, thm: TheoremRef, restarts: int) -> None:
    s0 = env.start(thm)
    s1 = env.run_tactic(s0, "intro n.")
    assert isinstance(s1, TacticState) and s1.goals[0].hypotheses == ("n : nat",)
    assert env.restarts == restarts, "the attack cost a coqidetop restart"


@pytest.mark.parametrize("case", COQ_CASES, ids=lambda c: c.name)
def test_adversarial_coq_tactic(coq, case: Case):
    s0 = coq.start(ADD0)
    restarts = coq.restarts
    assert outcome(coq.run_tactic(s0, case.tactic, script=case.script)) == case.expect
    assert_session_alive(coq, ADD0, restarts)


@pytest.mark.parametrize("case", COQ_FIX_CASES, ids=lambda c: c.name)
def test_adversarial_coq_closes_goals_but_fails_at_qed(coq, case: Case):
    s0 = coq.start(FALSE)
    result = coq.run_tactic(s0, case.tactic, script=case.script)
    assert outcome(result) == ERROR and not isinstance(result, TacticRefused)
    assert_session_alive(coq, FALSE, coq.restarts)


def test_adversarial_coq_stepwise_fix_never_finishes(coq):
    s = coq.start(FALSE)
    for tac in ("fix f 1.", "intro n."):
        s = coq.run_tactic(s, tac)
        assert isinstance(s, TacticState)
    last = coq.run_tactic(s, "exact (f n).")
    assert isinstance(last, TacticError) and "Qed rejected" in last.message and "ill-formed" in last.message


@pytest.mark.parametrize("name", sorted(COQ_VERIFY_CASES))
def test_adversarial_coq_verify_rejects(coq, name: str):
    verdict = coq.verify(FALSE, COQ_VERIFY_CASES[name])
    assert not verdict.verified and verdict.reasons


def test_adversarial_coq_verify_still_accepts_honest_proof(coq):
    assert coq.verify(ADD0, ["intros n.", "lia."]).verified
