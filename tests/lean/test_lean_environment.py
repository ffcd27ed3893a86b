"""`LeanEnvironment` (start / run_tactic / verify) against recorded scenarios.

Each test starts the transcript server at the request where the scenario's theorem is opened, so
the environment's own requests must equal the recorded ones to get any answer at all.
"""

from __future__ import annotations

import json

import pytest
from conftest import requests_of

from proofsmith.envs.base import (
    Environment,
    EnvStartError,
    ProofFinished,
    ProofGivenUp,
    TacticError,
    TacticRefused,
    TacticState,
    TheoremRef,
)
from proofsmith.envs.lean import LeanEnvironment


def stmt(text: str, header: str = "", name: str = "thm") -> TheoremRef:
    return TheoremRef.from_statement(text, name=name, header=header, backend="lean")


def test_lean_environment_satisfies_protocol(fake):
    with LeanEnvironment(fake.config("proof_branching")) as env:
        assert isinstance(env, Environment)


def test_lean_env_proof_branching_finishes(fake):
    with LeanEnvironment(fake.config("proof_branching")) as env:
        s0 = env.start(stmt("theorem complex_and (p q r : Prop) (h1 : p ∧ q) (h2 : q → r) : p ∧ r := by sorry"))
        assert s0.pp == "p q r : Prop\nh1 : p ∧ q\nh2 : q → r\n⊢ p ∧ r"
        assert s0.goals[0].hypotheses == ("p q r : Prop", "h1 : p ∧ q", "h2 : q → r")
        s1 = env.run_tactic(s0, "apply And.intro")
        assert isinstance(s1, TacticState) and [g.name for g in s1.goals] == ["left", "right"]
        assert (
            s1.pp
            == "case left\np q r : Prop\nh1 : p ∧ q\nh2 : q → r\n⊢ p\n\ncase right\np q r : Prop\nh1 : p ∧ q\nh2 : q → r\n⊢ r"
        )
        s2 = env.run_tactic(s1, "exact h1.left")
        s3 = env.run_tactic(s2, "apply h2")
        assert s3.goals[0].conclusion == "q"
        done = env.run_tactic(s3, "exact h1.right")
        assert isinstance(done, ProofFinished)
        assert done.proof == ("apply And.intro", "exact h1.left", "apply h2", "exact h1.right")
        assert s0.id < s1.id < s2.id < s3.id < done.id  # our ids only grow


def test_lean_env_backtracking_reuses_earlier_state(fake):
    with LeanEnvironment(fake.config("proof_step")) as env:
        s0 = env.start(stmt("def f : Nat := by sorry"))
        detour = env.run_tactic(s0, "apply Int.natAbs")
        assert isinstance(detour, TacticState) and detour.pp == "⊢ Int"
        s2 = env.run_tactic(s0, "have t : Nat := 42")  # back to the first state
        assert s2.pp == "t : Nat\n⊢ Nat"
        done = env.run_tactic(s2, "exact t")
        assert isinstance(done, ProofFinished) and done.proof == ("have t : Nat := 42", "exact t")


def test_lean_env_thrown_error_is_tactic_error_and_state_stays_valid(fake):
    with LeanEnvironment(fake.config("unknown_tactic")) as env:
        s0 = env.start(stmt("def f : Nat := by sorry"))
        r = env.run_tactic(s0, "exat 42")
        assert r == TacticError("<input>:1:1: unknown tactic")
        assert not isinstance(r, TacticRefused)


def test_lean_env_logged_error_with_no_goals_is_an_error(fake):
    with LeanEnvironment(fake.config("invalid_tactic")) as env:
        s0 = env.start(stmt("theorem my_theorem (x : Nat) : x = x := by sorry"))
        r = env.run_tactic(s0, "exact my_fake_premise")
        assert isinstance(r, TacticError) and "Unknown identifier `my_fake_premise`" in r.message


def test_lean_env_open_metavariables_are_not_a_proof(fake):
    with LeanEnvironment(fake.config("app_type_mismatch", start=1)) as env:
        s0 = env.start(stmt("example : 1 = 0 := sorry"))  # already a sorry proof: sent as is
        s1 = env.run_tactic(s0, "cases 1")
        assert [g.name for g in s1.goals] == ["zero", "succ"]
        s2 = env.run_tactic(s1, "rfl")
        r = env.run_tactic(s2, "apply ?succ")
        assert r == TacticError("Incomplete: contains metavariable(s)")


@pytest.mark.parametrize(
    "scenario,tactic", [("self_proof_exact_check", "exact ex"), ("self_proof_apply_check", "apply ex")]
)
def test_lean_env_kernel_rejection_is_not_a_proof(fake, scenario, tactic):
    with LeanEnvironment(fake.config(scenario, start=1)) as env:
        s0 = env.start(stmt("theorem ex : False := sorry"))
        r = env.run_tactic(s0, tactic)
        assert isinstance(r, TacticError) and r.message.startswith("Error: kernel type check failed")


def test_lean_env_sorry_is_given_up_when_allowed(fake):
    with LeanEnvironment(fake.config("tactic_mode_sorry", allow_sorry=True)) as env:
        assert isinstance(env.run_tactic(env.start(stmt("def f : Nat := by sorry")), "sorry"), ProofGivenUp)


def test_lean_env_sorry_is_refused_before_reaching_lean(fake):
    with LeanEnvironment(fake.config("tactic_mode_sorry")) as env:
        s0 = env.start(stmt("def f : Nat := by sorry"))
        for bad in (
            "sorry",
            "admit",
            "#eval IO.println 1",
            "#exit",
            "run_cmd pure ()",
            'exact (IO.getEnv "X")',
            "set_option debug.skipKernelTC true in rfl",
            "rfl\ntheorem x : False := sorry",
        ):
            assert isinstance(env.run_tactic(s0, bad), TacticRefused), bad
    assert len(fake.sent_requests()) == 1  # only the statement reached the REPL


def test_lean_env_by_cases_branches_and_gives_up(fake):
    with LeanEnvironment(fake.config("by_cases", allow_sorry=True)) as env:
        s0 = env.start(stmt("theorem foo (x : Int) : x = x := by sorry"))
        s1 = env.run_tactic(s0, "by_cases h : x < 0")
        assert s1.num_goals == 2 and s1.goals[1].hypotheses == ("x : Int", "h : ¬x < 0")
        s2 = env.run_tactic(s1, "case pos => rfl")
        assert s2.num_goals == 1 and s2.goals[0].name == "neg"
        assert isinstance(env.run_tactic(s1, "all_goals sorry"), ProofGivenUp)


def test_lean_env_sorry_leaving_goals_open_is_a_state(fake):
    with LeanEnvironment(fake.config("sorry_hypotheses", allow_sorry=True)) as env:
        s0 = env.start(stmt("theorem foo (x : Int) : x = x := by sorry"))
        r = env.run_tactic(s0, "have h : x = 1 := sorry")
        assert isinstance(r, TacticState) and r.pp == "x : Int\nh : x = 1\n⊢ x = x"


def test_lean_env_statement_with_errors_fails_to_start(fake):
    with LeanEnvironment(fake.config("have_by_sorry")) as env:
        with pytest.raises(EnvStartError, match="unsolved goals"):
            env.start(stmt("theorem foo (x : Int) : x = x := by\n  have h : x = 1 := by sorry"))


def test_lean_env_two_theorems_in_one_process(fake):
    with LeanEnvironment(fake.config("proof_transitivity")) as env:
        a = env.start(stmt("example (x y z : Nat) (h1 : x = y) (h2 : y = z) : x = z := by sorry"))
        assert isinstance(env.run_tactic(a, "exact Eq.trans h1 h2"), ProofFinished)
        b = env.start(stmt("example (f : Nat → Nat) (n : Nat) (h : n = 3) : f n = f 3 := by sorry"))
        assert isinstance(env.run_tactic(b, "exact congrArg f h"), ProofFinished)
        assert env.session.generation == 1


def test_lean_env_file_theorem_with_imports_header(fake, tmp_path):
    src = tmp_path / "Demo.lean"
    src.write_text("import Lean\n\ndef f : Nat := by sorry\n", encoding="utf-8")
    with LeanEnvironment(fake.config("pickle_proof_state_env")) as env:
        s0 = env.start(TheoremRef.from_file(src, "f", backend="lean"))
        assert s0.pp == "⊢ Nat"
    assert fake.sent_requests() == [{"cmd": "import Lean"}, {"cmd": "def f : Nat := by sorry", "env": 0}]


def test_lean_env_file_theorem_with_sorry_proof_is_sent_verbatim(fake, tmp_path):
    """`variables.in`'s last command is exactly what this file theorem opens with."""
    last = requests_of("variables")[2]
    src = tmp_path / "P.lean"
    src.write_text(
        "theorem problem (h0 : f 5 = 3) (h1 : f (4 * x * y) = 2 * y * (f (x + y) + f (x - y))) :\n"
        "    ∃ (k : Nat), f 2015 = k := by\n  sorry\n",
        encoding="utf-8",
    )
    from proofsmith.envs.lean.source import load_theorem

    t = load_theorem(TheoremRef.from_file(src, "problem", backend="lean"))
    assert json.loads(last)["cmd"] == t.start_command
    assert t.context == () and t.decl_name == "problem"


def test_lean_env_header_env_is_cached_spec_only(fake):
    with LeanEnvironment(fake.config("header_cache")) as env:
        a = env.start(stmt("theorem t1 : 1 = 1 := by sorry", header="import Lean"))
        b = env.start(stmt("theorem t2 (n : Nat) : n + 0 = n := by sorry", header="import Lean"))
        assert isinstance(env.run_tactic(b, "rfl"), ProofFinished)
        assert isinstance(env.run_tactic(a, "rfl"), ProofFinished)
    sent = fake.sent_requests()
    assert sum("import" in r.get("cmd", "") for r in sent) == 1  # one import per process
    assert [r.get("env") for r in sent[:3]] == [None, 0, 0]


def test_lean_verify_accepts_standard_axioms_spec_only(fake):
    with LeanEnvironment(fake.config("verify_ok")) as env:
        v = env.verify(
            stmt("theorem and_swap (p q : Prop) : p ∧ q → q ∧ p := by sorry", header="import Lean"),
            ["intro h", "exact ⟨h.2, h.1⟩"],
        )
        assert v.verified and v.axioms == () and v.reasons == ()
        v2 = env.verify(
            stmt("theorem em' (p : Prop) : p ∨ ¬p := sorry", header="import Lean"),
            ["classical", "exact Classical.em p"],
        )
        assert v2 and v2.axioms == ("propext", "Classical.choice", "Quot.sound")


def test_lean_verify_rejects_bad_axioms_unknown_output_and_sorry_spec_only(fake):
    with LeanEnvironment(fake.config("verify_bad_axioms")) as env:
        v = env.verify(stmt("theorem cheat : 1 = 2 := sorry"), ["exact bogus_lemma"])
        assert not v and "sorryAx" in v.reasons[0] and "bogus_axiom" in v.reasons[0]
        odd = env.verify(stmt("theorem odd : 2 = 2 := sorry"), ["exact rfl"])
        assert not odd and "could not read the #print axioms output" in odd.reasons[0]  # fail closed
        warned = env.verify(stmt("theorem warned : 3 = 3 := sorry"), ["decide"])
        assert not warned and warned.reasons == ("warning: declaration uses 'sorry'",)


@pytest.mark.parametrize(
    "scenario,statement,proof,why",
    [
        ("self_proof_exact_check", "theorem ex : False := sorry", ["exact ex"], "fail to show termination"),
        ("incomplete", "def f : Nat := sorry", ["apply Nat.succ"], "unsolved goals"),
    ],
)
def test_lean_verify_rejects_what_lean_rejects(fake, scenario, statement, proof, why):
    with LeanEnvironment(fake.config(scenario)) as env:
        v = env.verify(stmt(statement), proof)
        assert not v.verified and why in v.reasons[0]
    assert len(fake.sent_requests()) == 1  # no axiom audit after a failed compile


def test_lean_verify_refuses_sorry_without_asking_lean(fake):
    with LeanEnvironment(fake.config("proof_step")) as env:
        v = env.verify(stmt("def f : Nat := by sorry"), ["sorry"])
        assert not v and "refused" in v.reasons[0]
    assert fake.sent_requests() == []
