"""The live Coq environment, against real coqidetop."""

import os
import signal
import textwrap

import pytest

from proofsmith.envs.base import (
    EnvCrashError,
    Environment,
    EnvStartError,
    ProofFinished,
    ProofGivenUp,
    TacticError,
    TacticRefused,
    TacticState,
    TheoremRef,
)
from proofsmith.envs.coq import CoqEnvironment

from .conftest import stmt


def test_coq_env_is_an_environment(env):
    assert isinstance(env, Environment)


def test_coq_prove_with_intros_lia(env):
    s0 = env.start(stmt("Theorem t_lia : forall n m : nat, n + m = m + n.", "t_lia"))
    assert s0.pp == "⊢ forall n m : nat, n + m = m + n"
    s1 = env.run_tactic(s0, "intros n m.")
    assert isinstance(s1, TacticState)
    assert s1.goals[0].hypotheses == ("n, m : nat",) and s1.goals[0].conclusion == "n + m = m + n"
    done = env.run_tactic(s1, "lia.")
    assert isinstance(done, ProofFinished)
    assert done.proof == ("intros n m.", "lia.")


def test_coq_bullets_and_braces(env):
    s0 = env.start(stmt("Theorem t_bul : True /\\ (False -> False).", "t_bul"))
    s1 = env.run_tactic(s0, "split.")
    assert s1.num_goals == 2
    s2 = env.run_tactic(s1, "- exact I.")
    assert isinstance(s2, TacticState) and "unfocused" in s2.pp and s2.goals[0].conclusion == "False -> False"
    s3 = env.run_tactic(s2, "- { intro H.")
    assert isinstance(s3, TacticState) and s3.goals[0].hypotheses == ("H : False",)
    s4 = env.run_tactic(s3, "exact H.")
    assert isinstance(s4, TacticState)
    done = env.run_tactic(s4, "}")
    assert isinstance(done, ProofFinished)
    assert env.verify(stmt("Theorem t_bul : True /\\ (False -> False).", "t_bul"), done.proof).verified


def test_coq_error_then_retry_same_state(env):
    s0 = env.start(stmt("Theorem t_err : forall n : nat, n * 1 = n.", "t_err"))
    s1 = env.run_tactic(s0, "intros n.")
    err = env.run_tactic(s1, "apply foo.")
    assert isinstance(err, TacticError) and "foo" in err.message and err.pos == (6, 9)
    syn = env.run_tactic(s1, "exact (.")
    assert isinstance(syn, TacticError) and "Syntax error" in syn.message
    assert isinstance(env.run_tactic(s1, "lia."), ProofFinished)


def test_coq_backtrack_to_state_zero_and_other_path(env):
    s0 = env.start(stmt("Theorem t_bt : forall a b : nat, a = b -> b = a.", "t_bt"))
    a1 = env.run_tactic(s0, "intros a b H.")
    a2 = env.run_tactic(a1, "symmetry.")
    assert a2.goals[0].conclusion == "a = b"
    b1 = env.run_tactic(s0, "intro x.")  # back to state 0, a different path
    assert b1.goals[0].hypotheses == ("x : nat",)
    # the first path is still usable after exploring the second
    assert isinstance(env.run_tactic(a2, "exact H."), ProofFinished)
    b2 = env.run_tactic(b1, "intros y Hxy.")
    assert isinstance(env.run_tactic(b2, "now rewrite Hxy."), ProofFinished)
    assert a1 == env.run_tactic(s0, "intros a b H.")  # equality by pp, fresh id


def test_coq_admit_is_given_up_not_finished(env):
    s0 = env.start(stmt("Theorem t_adm : 1 = 2.", "t_adm"))
    assert isinstance(env.run_tactic(s0, "admit."), ProofGivenUp)
    assert isinstance(env.run_tactic(s0, "give_up."), ProofGivenUp)
    s1 = env.run_tactic(s0, "assert (H : 0 = 0) by admit.")
    assert isinstance(s1, TacticState)  # goals remain: a state, not yet given up


@pytest.mark.parametrize(
    "bad",
    [
        "Qed.",
        "Admitted.",
        "Abort.",
        "Definition x := 1.",
        "Require Import Lia.",
        'Load "/etc/passwd".',
        'Redirect "/tmp/out" Print nat.',
        'Declare ML Module "foo".',
        "Drop.",
        "Unset Guard Checking.",
        "Set Printing All.",
        "Axiom magic : False.",
        "intros. reflexivity.",
        "reflexivity\x00",
        "idtac " * 5000,
    ],
)
def test_coq_refused_inputs_keep_session_usable(env, bad):
    s0 = env.start(stmt("Theorem t_ref : 0 = 0.", "t_ref"))
    r = env.run_tactic(s0, bad)
    assert isinstance(r, TacticRefused) and r.message.startswith("refused:")
    assert isinstance(env.run_tactic(s0, "reflexivity."), ProofFinished)


def test_coq_qed_rejection_is_an_error_not_a_proof(env):
    s0 = env.start(stmt("Theorem t_fix : nat -> False.", "t_fix"))
    s1 = env.run_tactic(s0, "fix IH 1.")
    r = env.run_tactic(s1, "exact IH.")
    assert isinstance(r, TacticError) and "Qed rejected" in r.message


def test_coq_looping_tactic_times_out_and_next_call_works():
    with CoqEnvironment(tactic_timeout=1) as env:
        s0 = env.start(stmt("Theorem t_loop : 0 = 0.", "t_loop", header="Ltac spin := idtac; spin."))
        r = env.run_tactic(s0, "spin.")
        assert isinstance(r, TacticError) and "Timeout" in r.message
        assert isinstance(env.run_tactic(s0, "reflexivity."), ProofFinished)


def test_coq_killed_coqidetop_is_restarted_and_replayed():
    with CoqEnvironment() as env:
        s0 = env.start(stmt("Theorem t_kill : forall n : nat, n + 0 = n.", "t_kill"))
        s1 = env.run_tactic(s0, "intros n.")
        os.kill(env.session.process.pid, signal.SIGKILL)
        with pytest.raises(EnvCrashError):
            env.run_tactic(s1, "lia.")
        assert env.restarts == 1
        assert isinstance(env.run_tactic(s1, "lia."), ProofFinished)  # replayed to s1


def test_coq_unicode_goals_and_error_positions_in_characters(env):
    ref = stmt("Theorem t_uni : ∀ α : nat, α + 0 = α ∧ True.", "t_uni", header="Require Import Utf8 Arith.")
    s0 = env.start(ref)
    assert "α" in s0.pp and "∀" in s0.pp
    err = env.run_tactic(s0, "intros α; exact (λ β, bar).")
    assert isinstance(err, TacticError) and err.pos == (22, 25)
    s1 = env.run_tactic(s0, "intros α.")
    assert s1.goals[0].hypotheses == ("α : nat",)


def test_coq_theorem_in_file_sees_earlier_lemmas(tmp_path, env):
    f = tmp_path / "Lib.v"
    f.write_text(
        textwrap.dedent("""\
        Require Import Arith.
        Lemma helper : forall n, n + 0 = n.
        Proof. intros. apply Nat.add_0_r. Qed.
        Theorem main_thm : 3 + 0 = 3.
        Proof. apply helper. Qed.
        Lemma after_main : True.
        Proof. exact I. Qed.
    """)
    )
    ref = TheoremRef.from_file(f, "main_thm")
    s0 = env.start(ref)
    assert s0.pp == "⊢ 3 + 0 = 3"
    done = env.run_tactic(s0, "apply helper.")
    assert isinstance(done, ProofFinished)
    assert env.verify(ref, done.proof).verified
    assert isinstance(env.run_tactic(s0, "apply after_main."), TacticError)  # later lemmas are not in scope
    with pytest.raises(EnvStartError):
        env.start(TheoremRef.from_file(f, "no_such_theorem"))


def test_coq_verify_rejects_admit_and_axioms_accepts_good(tmp_path, env):
    ref = stmt("Theorem t_v : forall n : nat, n <= n + 1.", "t_v")
    assert env.verify(ref, ["intros.", "lia."]).verified
    v = env.verify(ref, ["intros.", "admit."])
    assert not v.verified and "coqc rejected" in v.reasons[0]
    assert not env.verify(ref, ["intros.", "lia.", "Qed.", "Axiom x : False."]).verified
    f = tmp_path / "Ax.v"
    f.write_text(
        "Axiom magic : forall P : Prop, P.\nAxiom classic : forall P : Prop, P \\/ ~ P.\n"
        "Theorem t_ax : 0 = 1.\nProof. apply magic. Qed.\n"
        "Theorem t_cl : forall P : Prop, P \\/ ~ P.\nProof. exact classic. Qed.\n"
    )
    v = env.verify(TheoremRef.from_file(f, "t_ax"), ["apply magic."])
    assert not v.verified and any("Check.magic" in a for a in v.axioms)
    # a local axiom named like a stdlib one is still caught (names are resolved in full)
    v = env.verify(TheoremRef.from_file(f, "t_cl"), ["exact classic."])
    assert not v.verified and v.axioms == ("ProofsmithVerify.Check.classic",)
    allowed = CoqEnvironment(allowed_axioms=("ProofsmithVerify.Check.classic",))
    assert allowed.verify(TheoremRef.from_file(f, "t_cl"), ["exact classic."]).verified


def test_coq_verify_accepts_stdlib_real_axioms(env):
    ref = stmt("Theorem t_r : forall x : R, (2 * x = 4)%R -> x = 2%R.", "t_r", header="Require Import Reals Lra.")
    v = env.verify(ref, ["intros.", "lra."])
    assert v.verified
    assert "Coq.Logic.FunctionalExtensionality.functional_extensionality_dep" in v.axioms


def test_coq_memory_cap_kills_runaway_tactic_reports_oom_and_recovers():
    with CoqEnvironment(tactic_timeout=30, memory_limit=1024**3) as env:
        s0 = env.start(stmt("Theorem t_oom : 0 = 0.", "t_oom", header="Ltac spin := idtac; spin."))
        with pytest.raises(EnvCrashError) as info:
            env.run_tactic(s0, "spin.")
        assert info.value.is_out_of_memory
        assert isinstance(env.run_tactic(s0, "reflexivity."), ProofFinished)


def test_coq_recycles_session_above_rss_threshold_and_keeps_states():
    with CoqEnvironment(recycle_rss=1, recycle_check_every=4) as env:
        s0 = env.start(stmt("Theorem t_rec : forall n : nat, n + 0 = n.", "t_rec"))
        s1 = env.run_tactic(s0, "intros n.")
        for _ in range(4):
            env.run_tactic(s1, "idtac.")
        assert env.restarts >= 1
        assert isinstance(env.run_tactic(s1, "lia."), ProofFinished)


def test_coq_script_mode_runs_several_sentences_as_one_step(env):
    s0 = env.start(stmt("Theorem t_scr : forall n : nat, n = n.", "t_scr"))
    assert isinstance(env.run_tactic(s0, "intros n. reflexivity."), TacticRefused)
    done = env.run_tactic(s0, "intros n. reflexivity.", script=True)
    assert isinstance(done, ProofFinished) and done.proof == ("intros n. reflexivity.",)
    assert isinstance(env.run_tactic(s0, "intros n. Qed.", script=True), TacticRefused)


def test_coq_unknown_state_is_a_clear_error(env):
    with pytest.raises(ValueError, match="unknown state id"):
        env.run_tactic(TacticState(pp="x", id=10**9), "idtac.")


def test_coq_passes_the_generic_environment_contract():
    from contract import ContractCase, check_environment_contract

    case = ContractCase(
        theorem=stmt("Theorem t_contract : forall n : nat, n + 0 = n.", "t_contract"),
        failing_step="apply foo.",
        detour="intro x.",
        path=("intros n.", "lia."),
    )
    with CoqEnvironment() as env:
        check_environment_contract(env, case)
