"""The LeanDojo facade: `with Dojo(thm) as (dojo, state)` / `run_tac`, and a ReProver-style
best-first search running unchanged on it, against recorded REPL scenarios."""

from __future__ import annotations

import heapq
import sys
import types
from dataclasses import dataclass, field

import pytest

from proofsmith.envs.base import TheoremRef
from proofsmith.envs.lean import dojo_compat
from proofsmith.envs.lean.dojo_compat import Dojo

BRANCHING = TheoremRef.from_statement(
    "theorem complex_and (p q r : Prop) (h1 : p ∧ q) (h2 : q → r) : p ∧ r := by sorry",
    name="complex_and",
    backend="lean",
)
BY_CASES = TheoremRef.from_statement("theorem foo (x : Int) : x = x := by sorry", name="foo", backend="lean")


def best_first_search(dojo_factory, generate, max_expansions=20):
    """ReProver's loop (prover/proof_search.py), written only against LeanDojo's names."""
    TacticState, ProofFinished = dojo_compat.result_classes().TacticState, dojo_compat.result_classes().ProofFinished
    with dojo_factory() as (dojo, init_state):
        queue = [(0.0, 0, init_state, [])]
        seen = {init_state}
        tried, tick = [], 1
        while queue and max_expansions:
            max_expansions -= 1
            neg_logprob, _, state, path = heapq.heappop(queue)
            for tactic, score in generate(state.pp):
                result = dojo.run_tac(state, tactic)
                tried.append((tactic, type(result).__name__))
                if isinstance(result, ProofFinished):
                    return path + [tactic], tried, dojo.is_successful
                if isinstance(result, TacticState) and result not in seen:  # states merge by pp
                    seen.add(result)
                    heapq.heappush(queue, (neg_logprob - score, tick, result, path + [tactic]))
                    tick += 1
        return None, tried, dojo.is_successful


def scripted_generator(table):
    return lambda pp: table.get(pp, [])


def test_lean_dojo_reprover_loop_finds_proof(fake):
    ctx = "p q r : Prop\nh1 : p ∧ q\nh2 : q → r\n"
    table = {
        ctx + "⊢ p ∧ r": [("#exit", -0.05), ("apply And.intro", -0.1)],
        f"case left\n{ctx}⊢ p\n\ncase right\n{ctx}⊢ r": [("run_cmd pure ()", -0.1), ("exact h1.left", -0.2)],
        f"case right\n{ctx}⊢ r": [("apply h2", -0.3)],
        f"case right\n{ctx}⊢ q": [("exact h1.right", -0.1)],
    }
    proof, tried, ok = best_first_search(
        lambda: Dojo(BRANCHING, timeout=20, config=fake.config("proof_branching")), scripted_generator(table)
    )
    assert proof == ["apply And.intro", "exact h1.left", "apply h2", "exact h1.right"]
    assert ok is True
    assert ("#exit", "LeanError") in tried and ("run_cmd pure ()", "LeanError") in tried  # refused, never sent
    assert len(fake.sent_requests()) == 5


def test_lean_dojo_reprover_loop_exhausts_without_proof(fake):
    ctx = "x : Int\n"
    table = {
        ctx + "⊢ x = x": [("by_cases h : x < 0", -0.1)],
        f"case pos\n{ctx}h : x < 0\n⊢ x = x\n\ncase neg\n{ctx}h : ¬x < 0\n⊢ x = x": [
            ("case pos => rfl", -0.2),
            ("all_goals sorry", -0.3),
        ],
    }
    proof, tried, ok = best_first_search(
        lambda: Dojo(BY_CASES, config=fake.config("by_cases")), scripted_generator(table)
    )
    assert proof is None and ok is False
    assert tried == [
        ("by_cases h : x < 0", "TacticState"),
        ("case pos => rfl", "TacticState"),
        ("all_goals sorry", "ProofGivenUp"),
    ]


def test_lean_dojo_results_mirror_leandojo_demo(fake):
    """dojo_demo_transcript.json: a bad tactic is a LeanError with stripped text and allocates nothing."""
    with Dojo(TheoremRef.from_statement("def f : Nat := by sorry", name="f"), config=fake.config("unknown_tactic")) as (
        dojo,
        s0,
    ):
        assert isinstance(s0, dojo_compat.TacticState) and s0.id == 0 and s0.num_goals == 1
        err = dojo.run_tac(s0, "exat 42")
        assert err == dojo_compat.LeanError("<input>:1:1: unknown tactic")
        with pytest.raises(RuntimeError):
            dojo.run_tac(err, "rfl")


def test_lean_dojo_init_error_on_rejected_statement(fake):
    with pytest.raises(dojo_compat.DojoInitError, match="unsolved goals"):
        with Dojo(
            TheoremRef.from_statement("theorem foo (x : Int) : x = x := by\n  have h : x = 1 := by sorry", name="foo"),
            config=fake.config("have_by_sorry"),
        ):
            pass


def test_lean_dojo_crash_and_timeout_map_to_dojo_errors(fake):
    with Dojo(BRANCHING, timeout=1, config=fake.config("proof_branching", fault="hang", fault_at=1)) as (dojo, s0):
        with pytest.raises(dojo_compat.DojoTacticTimeoutError):
            dojo.run_tac(s0, "apply And.intro")
        assert dojo.run_tac(s0, "apply And.intro").pp.startswith("case left")  # replayed on a fresh REPL


def test_lean_dojo_uses_lean_dojo_classes_when_importable(fake, monkeypatch):
    fake_mod = types.ModuleType("lean_dojo")

    @dataclass(frozen=True)
    class TacticState:
        pp: str
        id: int = field(compare=False)
        message: object = field(default=None, compare=False)

    @dataclass(frozen=True)
    class ProofFinished:
        tactic_state_id: int
        message: object = field(default=None, compare=False)

    fake_mod.TacticState, fake_mod.ProofFinished = TacticState, ProofFinished
    monkeypatch.setitem(sys.modules, "lean_dojo", fake_mod)
    assert dojo_compat.result_classes().source == "lean_dojo"
    with Dojo(
        TheoremRef.from_statement("def f (x : Unit) : Nat := by sorry", name="f"), config=fake.config("readme")
    ) as (dojo, s0):
        assert type(s0) is TacticState
        s1 = dojo.run_tac(s0, "apply Int.natAbs")
        assert type(s1) is TacticState and s1.pp == "x : Unit\n⊢ Int"
        done = dojo.run_tac(s1, "exact -37")
        assert type(done) is ProofFinished and done.tactic_state_id > s1.id
    # names lean_dojo lacks fall back to ours
    assert dojo_compat.result_classes().LeanError is dojo_compat.LeanError


def test_lean_dojo_leandojo_theorem_entry_resolves_in_project(fake, tmp_path):
    (tmp_path / "Demo").mkdir()
    (tmp_path / "Demo" / "F.lean").write_text("import Lean\n\ndef f : Nat := by sorry\n", encoding="utf-8")
    entry = types.SimpleNamespace(repo=None, file_path="Demo/F.lean", full_name="f")
    cfg = fake.config("pickle_proof_state_env", project_dir=tmp_path)
    with Dojo(entry, config=cfg) as (dojo, s0):
        assert s0.pp == "⊢ Nat"
