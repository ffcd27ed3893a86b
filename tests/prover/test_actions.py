"""The `actions` generator and its goal-shape parser, on real Coq states (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from proofsmith.envs.base import ProofFinished, TacticState, TheoremRef
from proofsmith.envs.coq import CoqEnvironment
from proofsmith.prover.generators.actions import NAT_TO_Z_COMPUTE, Z_SWAP_GREATER, ActionGenerator, premise_name
from proofsmith.prover.generators.factory import GeneratorSpecError, check_spec, make_generator
from proofsmith.prover.generators.goal_shape import denominators, first_goal, introduce, needs_intros, parse_state
from proofsmith.prover.search import BestFirstSearch, SearchConfig
from proofsmith.prover.status import SearchStatus

REALS = """Require Import Reals Lra.
Open Scope R_scope.

Theorem two_vars : forall x y : R, 0 < x -> 0 < y -> Rabs (x - y) <= x + y /\\ x * y <= (x * x + y * y) / 2.
Proof.
Admitted.
"""

NATS = """Require Import Arith Lia.

Theorem cases : forall n : nat, n < 4 -> n * n * n < 30.
Proof.
Admitted.
"""

# `auto` alone proves `cases` (`intros; nia`), in one step. This one takes two different steps
# (no single sentence closes both conjuncts: lia/nia do not read reals, lra/nra not nat products).
TWO_STEPS = """Require Import Arith Lia Reals Lra.
Open Scope R_scope.

Theorem two_steps (n : nat) (x : R) (H : (n < 4)%nat) : (n * n * n < 30)%nat /\\ 0 <= Rabs x.
Proof.
Admitted.
"""


@pytest.fixture(scope="module")
def env():
    e = CoqEnvironment(additional_imports=ActionGenerator.required_imports)
    yield e
    e.close()


def _write(tmp_path: Path, name: str, text: str) -> TheoremRef:
    path = tmp_path / f"{name}.v"
    path.write_text(text)
    return TheoremRef(name, file_path=path)


def _state(env, ref: TheoremRef, *tactics: str) -> TacticState:
    st = env.start(ref)
    for t in tactics:
        st = env.run_tactic(st, t)
        assert isinstance(st, TacticState), (t, st)
    return st


def test_goal_shape_on_real_states(env, tmp_path):
    ref = _write(tmp_path, "two_vars", REALS)
    root = _state(env, ref)
    shape = first_goal(root.pp)
    assert shape is not None and needs_intros(shape.goal) and not shape.hyps
    st = _state(env, ref, "intros", "split")
    goals = parse_state(st.pp)
    assert len(goals) == 2
    g = goals[0]
    assert g.variables == {"x": "R", "y": "R"}
    assert [h.name for h in g.props] == ["H", "H0"]
    assert g.goal == "Rabs (x - y) <= x + y"
    assert g.calls("Rabs") == [("(x - y)",)]
    assert {(t, strict) for _, t, strict in g.positivity()} == {("x", True), ("y", True)}
    assert goals[1].goal == "x * y <= (x * x + y * y) / 2"
    # `introduce` predicts the context Coq's `intros` makes
    predicted = introduce(shape)
    real = first_goal(_state(env, ref, "intros").pp)
    assert predicted is not None and real is not None
    assert [(h.names, h.type) for h in predicted.hyps] == [
        (h.name and (n,), h.type) for h in real.hyps for n in h.names
    ]
    assert predicted.goal == real.goal


def test_goal_shape_bounds_and_definitions():
    pp = "n, m : nat\nf : R -> R\nH : n < 4\nH0 : 1 <= m <= 9\nh0 : forall x : R, f x = 2 * x + 1\n⊢ f 3 = 7"
    g = first_goal(pp)
    assert g is not None
    assert {(b.var, b.upper, b.strict, b.number) for b in g.bounds()} == {
        ("n", True, True, "4"),
        ("m", False, False, "1"),
        ("m", True, False, "9"),
    }
    assert [h.name for h in g.definitions()] == ["h0"]
    assert g.functions() == ["f"]


def test_actions_propose_splits_enumeration_and_hints(env, tmp_path):
    gen = ActionGenerator()
    st = _state(env, _write(tmp_path, "two_vars", REALS), "intros", "split")
    tactics = [t for t, _ in gen.generate(st.pp, [], 200)]
    assert any("Rabs_right (x - y)" in t and "Rle_lt_dec 0 (x - y)" in t for t in tactics)  # order split for Rabs
    assert "unfold Rabs in *; destruct (Rcase_abs (x - y))" in tactics
    assert any(t.startswith("pose proof (pow2_ge_0 (x - y)%R)") and t.endswith("nra") for t in tactics)
    assert "pose proof (Rmult_lt_0_compat _ _ H H0); nra" in tactics
    assert "destruct (Rle_lt_dec x y)" in tactics

    st = _state(env, _write(tmp_path, "cases", NATS), "intros")
    cands = gen.generate(st.pp, [], 200)
    tactics = [t for t, _ in cands]
    assert tactics[0] == "destruct n as [|[|[|[|n]]]]; try lia"  # enumeration sized from `n < 4`, ranked first
    assert any(t.startswith("assert (n = 0%nat \\/ n = 1%nat \\/ n = 2%nat \\/ n = 3%nat)") for t in tactics)
    assert [s for _, s in cands] == sorted((s for _, s in cands), reverse=True)
    # every candidate is one tactic sentence the environment runs (no refusal, no parse error)
    for t in tactics[:6]:
        r = env.run_tactic(st, t, timeout=5)
        assert type(r).__name__ in ("TacticState", "ProofFinished", "TacticError"), (t, r)
    assert isinstance(env.run_tactic(st, tactics[0], timeout=10), ProofFinished)

    # a goal with binders: `intros`, and the same steps after it on the predicted context
    root = _state(env, _write(tmp_path, "cases", NATS))
    tactics = [t for t, _ in gen.generate(root.pp, [], 50)]
    assert tactics[0] == "intros" and "intros; destruct n as [|[|[|[|n]]]]; try lia" in tactics


def test_premises_become_candidates():
    gen = ActionGenerator(num_premises=2)
    prem = ["Coq.Reals.R_sqrt.sqrt_sqrt", "Lemma foo : True.", "x <a>Coq.Init.Logic.I</a>", "noise text here"]
    tactics = [t for t, _ in gen.generate("x : R\n⊢ sqrt x * sqrt x = x", prem, 200)]
    assert "apply Coq.Reals.R_sqrt.sqrt_sqrt" in tactics and "rewrite <- foo" in tactics
    # the k premises together, before each alone
    together = "hauto use: Coq.Reals.R_sqrt.sqrt_sqrt, foo"
    assert together in tactics and tactics.index(together) < tactics.index("apply Coq.Reals.R_sqrt.sqrt_sqrt")
    assert "eauto using Coq.Reals.R_sqrt.sqrt_sqrt, foo" in tactics
    assert not [t for t, _ in gen.generate("x : R\n⊢ sqrt x * sqrt x = x", ["noise text here"], 200) if "use" in t]
    assert not any("Coq.Init.Logic.I" in t for t in tactics)  # k = 2
    assert premise_name("noise text here") is None


def test_spec_registration():
    assert check_spec("actions") == "actions:8"
    assert check_spec("ensemble:auto+actions:3") == "ensemble:auto+actions:3"
    with pytest.raises(GeneratorSpecError):
        check_spec("actions:many")
    assert isinstance(make_generator("actions:3"), ActionGenerator)


def test_search_proof_of_several_steps(env, tmp_path):
    ref = _write(tmp_path, "two_steps", TWO_STEPS)
    cfg = SearchConfig(theorem_timeout=25, tactic_timeout=1.0, num_sampled_tactics=24)
    res = BestFirstSearch(make_generator("ensemble:auto+actions"), cfg).search(env, ref)
    assert res.status == SearchStatus.PROVED, res
    assert res.proof is not None and len(res.proof) >= 2
    assert env.verify(ref, res.proof).verified


SQINEQ = Path(__file__).parents[2] / "examples" / "minif2f-rocq-valid" / "algebra_sqineq_2unitcircatblt1.v"


def test_minif2f_theorem_auto_fails_actions_prove(env):
    """a^2 + b^2 = 2 -> a * b <= 1: nra needs the hint (a - b)^2 >= 0, or psatz finds the square
    itself (measured: `auto` times out)."""
    ref = TheoremRef("algebra_sqineq_2unitcircatblt1", file_path=SQINEQ)
    st = env.run_tactic(env.start(ref), "intros")
    assert isinstance(st, TacticState)
    for closer in ("nra", "nia", "lra"):
        assert not isinstance(env.run_tactic(st, closer, timeout=5), ProofFinished), closer
    cfg = SearchConfig(theorem_timeout=20, tactic_timeout=2.0)
    res = BestFirstSearch(make_generator("ensemble:auto+actions"), cfg).search(env, ref)
    assert res.status == SearchStatus.PROVED, res
    assert any("pow2_ge_0" in t or "psatz R 2" in t for t in res.proof or [])
    assert env.verify(ref, res.proof or []).verified


SQINEQ_SHIFTED = Path(__file__).parents[2] / "examples" / "minif2f-rocq-valid" / "algebra_sqineq_4bap1lt4bsqpap1sq.v"


def test_psatz_finds_the_square_no_variable_hint_gives(env):
    """4b(a+1) <= 4b^2 + (a+1)^2 is (2b - (a+1))^2 >= 0: no hint built from pairs of variables
    closes it with nra; the action space's `psatz R 2` does (csdp)."""
    ref = TheoremRef("algebra_sqineq_4bap1lt4bsqpap1sq", file_path=SQINEQ_SHIFTED)
    st = env.run_tactic(env.start(ref), "intros")
    assert isinstance(st, TacticState)
    cands = [t for t, _ in ActionGenerator().generate(st.pp, [], 64)]
    hints = [t for t in cands if "pow2_ge_0" in t]
    assert "psatz R 2" in cands and hints
    for t in hints:
        assert not isinstance(env.run_tactic(st, t, timeout=5), ProofFinished), t
    done = env.run_tactic(st, "psatz R 2", timeout=5)
    assert isinstance(done, ProofFinished)
    assert env.verify(ref, ["intros.", "psatz R 2."]).verified


DENOMINATORS = """Require Import Reals Lra.
Open Scope R_scope.

Theorem cleared : forall x : R, x <> 1 -> x <> -2 -> (x + 1) / (x - 1) = (x - 2) / (x + 2) -> x = 0.
Proof.
Admitted.
"""


def test_clearing_denominators_of_a_hypothesis_then_lra(env, tmp_path):
    """Lean's `field_simp at h`: the divisors of h are multiplied out and their `d <> 0` side
    conditions come from the context; `field_simplify in h` alone leaves h as it was."""
    ref = _write(tmp_path, "cleared", DENOMINATORS)
    st = _state(env, ref, "intros x h0 h1 h2")
    cands = [t for t, _ in ActionGenerator().generate(st.pp, [], 64)]
    clear = [t for t in cands if t.startswith("apply (f_equal")]
    assert clear == [
        "apply (f_equal (fun t => t * ((x - 1) * (x + 2)))) in h2; field_simplify in h2; "
        "[ | solve [ assumption | lra | intro; lra | intro; apply h0; lra | intro; apply h1; lra | nra ] .. ]"
    ]
    after = env.run_tactic(st, clear[0], timeout=5)
    assert isinstance(after, TacticState) and "/" not in after.pp, after
    assert isinstance(env.run_tactic(after, "lra", timeout=5), ProofFinished)
    assert not isinstance(env.run_tactic(st, "lra", timeout=5), ProofFinished)
    assert env.verify(ref, ["intros x h0 h1 h2.", clear[0] + ".", "lra."]).verified


def test_denominators_are_divisors_not_numerals_or_conjunctions():
    assert denominators("(n + 5) / (n - 3) = 2") == ["(n - 3)"]
    assert denominators("3 + 1 / x = 7 / x") == ["x"]
    assert denominators("x / 2 = 3 /\\ y = 1") == []
    assert denominators("1 / sqrt x + y / (a * b) = 1") == ["sqrt x", "(a * b)"]


SQRT = """Require Import Reals Lra.
Open Scope R_scope.

Theorem root_value : forall (k x : R), x = (13 - sqrt 131) / 4 -> 2 * x^2 - 13 * x + k = 0 -> k = 19/4.
Proof.
Admitted.
"""


def test_sqrt_facts_let_nra_finish(env, tmp_path):
    ref = _write(tmp_path, "root_value", SQRT)
    st = _state(env, ref, "intros k x H H0")
    cands = [t for t, _ in ActionGenerator().generate(st.pp, [], 64)]
    fact = "pose proof (sqrt_sqrt 131 ltac:(first [lra | nra])); pose proof (sqrt_pos 131)"
    assert fact in cands
    assert not isinstance(env.run_tactic(st, "subst; nra", timeout=5), ProofFinished)
    after = env.run_tactic(st, fact, timeout=5)
    assert isinstance(after, TacticState) and "sqrt 131 * sqrt 131 = 131" in after.pp, after
    assert isinstance(env.run_tactic(after, "subst; nra", timeout=5), ProofFinished)


def test_the_retrieved_premises_together_close_what_applying_each_does_not(env, tmp_path):
    """`a <= b -> b <= c -> a <= c + 0` needs two lemmas: `Nat.le_trans` and `Nat.add_0_r` (real Coq)."""
    ref = _write(
        tmp_path,
        "two_lemmas",
        "Require Import Arith.\n\nLemma two_lemmas (a b c : nat) : a <= b -> b <= c -> a <= c + 0.\nProof.\nAdmitted.\n",
    )
    root = env.start(ref)
    premises = ["Coq.Arith.PeanoNat.Nat.le_trans", "Coq.Arith.PeanoNat.Nat.add_0_r"]
    tactics = ActionGenerator(num_premises=2).premise_steps(premises)
    together = "hauto use: Coq.Arith.PeanoNat.Nat.le_trans, Coq.Arith.PeanoNat.Nat.add_0_r"
    assert tactics[0] == together and isinstance(env.run_tactic(root, together, timeout=20), ProofFinished)
    for name in premises:
        assert f"apply {name}" in tactics  # alone, neither closes it
        assert not isinstance(env.run_tactic(root, f"apply {name}", timeout=20), ProofFinished), name


REALS_THEOREM = "Require Import Reals Lra.\nOpen Scope R_scope.\n\nTheorem {name} : {statement}.\nProof.\nAdmitted.\n"
SHIFTED = REALS_THEOREM.format(
    name="shifted",
    statement="forall (a b : R) (f : R -> R), (forall x, f (x + 1) = 2 * x + 3) -> (forall x, f x = a * x + b) -> a + b = 3",
)


def test_a_universal_fact_instantiated_at_points_then_rewritten(env, tmp_path):
    """`forall x, f (x + 1) = ...` tells lra nothing until it is stated at points; then rewriting the
    definition of f and lra finish (a proof of three steps: intros, instances, rewrite + lra)."""
    ref = _write(tmp_path, "shifted", SHIFTED)
    st = _state(env, ref, "intros a b f H H0")
    inst = ActionGenerator().instantiations(first_goal(st.pp))
    assert inst == ["; ".join(f"try pose proof (H {p})" for p in ("0%R", "1%R", "(-1)%R", "2%R", "(-2)%R"))]
    finish = "rewrite ?H0 in *; lra"
    assert not isinstance(env.run_tactic(st, finish, timeout=5), ProofFinished)
    after = env.run_tactic(st, inst[0], timeout=5)
    assert isinstance(after, TacticState) and "f (0 + 1)" in after.pp, after
    assert isinstance(env.run_tactic(after, finish, timeout=5), ProofFinished)
    cfg = SearchConfig(theorem_timeout=30, tactic_timeout=2.0)
    res = BestFirstSearch(make_generator("ensemble:auto+actions"), cfg).search(env, ref)
    assert res.status == SearchStatus.PROVED, res
    assert res.proof is not None and len(res.proof) >= 2 and any("pose proof (H 0%R)" in t for t in res.proof)
    assert env.verify(ref, res.proof).verified


def test_side_conditions_of_an_instance_are_discharged_and_definitions_are_not_instantiated(env, tmp_path):
    text = REALS_THEOREM.format(
        name="partial",
        statement="forall (A : R) (f : R -> R), (forall x, f x = 2 * x) -> "
        "(forall x : R, x - 3 <> 0 -> 6 / (x - 3) = A / (x - 3)) -> A = 6",
    )
    ref = _write(tmp_path, "partial", text)
    st = _state(env, ref, "intros A f Hf H")
    inst = ActionGenerator().instantiations(first_goal(st.pp))
    assert len(inst) == 1 and inst[0].startswith("try pose proof (H 0%R ltac:(repeat split; lra))"), inst
    after = env.run_tactic(st, inst[0], timeout=5)
    assert isinstance(after, TacticState) and "6 / (0 - 3) = A / (0 - 3)" in after.pp, after
    # 3 is not a point, so no instance needs the false side condition 3 - 3 <> 0
    assert "(3 - 3)" not in after.pp


def test_field_simplify_eq_clears_the_goal_denominators_with_side_conditions_from_the_context(env, tmp_path):
    statement = "forall x y : R, x <> 0 -> y <> 0 -> x + y = 3 * (x * y) -> 1 / x + 1 / y = 3"
    ref = _write(tmp_path, "reciprocals", REALS_THEOREM.format(name="reciprocals", statement=statement))
    st = _state(env, ref, "intros x y Hx Hy H")
    step = next(t for t, _ in ActionGenerator().generate(st.pp, [], 64) if t.startswith("field_simplify_eq;"))
    assert "intro; apply Hx; lra" in step and "intro; apply Hy; lra" in step
    for closer in ("lra", "nra", "field"):
        assert not isinstance(env.run_tactic(st, closer, timeout=5), ProofFinished), closer
    assert isinstance(env.run_tactic(st, step, timeout=5), ProofFinished)
    assert env.verify(ref, ["intros x y Hx Hy H.", step + "."]).verified


def test_a_ground_nat_equation_with_powers_is_computed_in_binary(env, tmp_path):
    """7^1000 is a unary nat of 10^845 successors: the step moves each operator to Z first."""
    text = REALS_THEOREM.format(name="last_digit", statement="((7 ^ 1000 + 3) mod 10 = 4)%nat")
    ref = _write(tmp_path, "last_digit", text)
    st = env.start(ref)
    step = next(t for t, _ in ActionGenerator().generate(st.pp, [], 64) if t.startswith("apply Znat.Nat2Z.inj"))
    assert isinstance(env.run_tactic(st, step, timeout=10), ProofFinished)
    assert env.verify(ref, [step + "."]).verified
    # not for a goal with a variable, nor for an inequation
    for goal in ("n ^ 2 mod 10 = 4", "7 ^ 1000 mod 10 <= 4"):
        assert not ActionGenerator().binary_computation(first_goal(f"n : nat\n============================\n{goal}"))


def test_a_fact_concluding_with_a_quantifier_is_not_instantiated():
    pp = "H : forall eps : R, eps > 0 -> exists delta : R, delta > 0\n============================\n0 < 1"
    assert ActionGenerator().instantiations(first_goal(pp)) == []


def test_a_ground_z_equation_is_computed_first(env, tmp_path):
    text = "Require Import ZArith.\nOpen Scope Z_scope.\n\nTheorem z_digit : (3 ^ 999) mod 10 = 7.\nProof.\nAdmitted.\n"
    ref = _write(tmp_path, "z_digit", text)
    st = env.start(ref)
    cands = [t for t, _ in ActionGenerator().generate(st.pp, [], 64)]
    assert cands[:2] == [NAT_TO_Z_COMPUTE, "vm_compute; reflexivity"]
    assert not isinstance(env.run_tactic(st, NAT_TO_Z_COMPUTE, timeout=5), ProofFinished)  # not a nat goal
    assert isinstance(env.run_tactic(st, "vm_compute; reflexivity", timeout=5), ProofFinished)


def test_points_are_real_numbers_where_the_file_does_not_open_r_scope(env, tmp_path):
    text = "Require Import Reals.\n\nTheorem unscoped (f : R -> R) : (forall x : R, f (x + 1) = 2 * x)%R -> f 1%R = 0%R.\nProof.\nAdmitted.\n"
    st = _state(env, _write(tmp_path, "unscoped", text), "intros H")
    inst = ActionGenerator().instantiations(first_goal(st.pp))
    after = env.run_tactic(st, inst[0], timeout=5)
    assert isinstance(after, TacticState) and "f (0 + 1)" in after.pp and "f (-2 + 1)" in after.pp, after


def test_greater_than_is_turned_round_for_the_libraries_lemmas(env, tmp_path):
    """Zorder's `Zplus_gt_compat_r` is `Z.swap_greater. apply Z.add_lt_mono_r.`: the first step makes
    the `<` form the lemma states (real Coq); a nat goal unfolds `gt`/`ge`; a goal without them gets neither."""
    ref = _write(
        tmp_path,
        "gt_r",
        "Require Import ZArith.\nOpen Scope Z_scope.\n\n"
        "Lemma gt_r (n m p : Z) : n > m -> n + p > m + p.\nProof.\nAdmitted.\n",
    )
    st = _state(env, ref, "intros H")
    cands = [t for t, _ in ActionGenerator().generate(st.pp, [], 64)]
    assert Z_SWAP_GREATER in cands and "unfold gt, ge in *" not in cands
    after = env.run_tactic(st, Z_SWAP_GREATER, timeout=5)
    assert isinstance(after, TacticState) and "m + p < n + p" in after.pp and "m < n" in after.pp, after
    assert isinstance(env.run_tactic(after, "apply Z.add_lt_mono_r; assumption", timeout=5), ProofFinished)
    nat = "n, m : nat\nH : n >= m\n⊢ S n > m"
    assert "unfold gt, ge in *" in [t for t, _ in ActionGenerator().generate(nat, [], 64)]
    assert not ActionGenerator().orientations(first_goal("n, m : Z\nH : n <= m\n⊢ n < m + 1"))


def test_both_sides_commuted_for_the_lemma_of_the_other_side(env, tmp_path):
    """`p * n <= p * m`: `Z.mul_le_mono_nonneg_r` (stated for `n * p <= m * p`) applies only after both
    sides are commuted (real Coq). Sides sharing nothing, or a square (`rewrite !` would loop), get none."""
    ref = _write(
        tmp_path,
        "mirror_l",
        "Require Import ZArith.\nOpen Scope Z_scope.\n\n"
        "Lemma mirror_l (n m p : Z) : n <= m -> 0 <= p -> p * n <= p * m.\nProof.\nAdmitted.\n",
    )
    st = _state(env, ref, "intros H H0")
    mirror = "rewrite (Z.mul_comm p n), (Z.mul_comm p m)"
    assert mirror in [t for t, _ in ActionGenerator().generate(st.pp, [], 64)]
    closer = "apply Z.mul_le_mono_nonneg_r; assumption"
    assert not isinstance(env.run_tactic(st, closer, timeout=5), ProofFinished)
    after = env.run_tactic(st, mirror, timeout=5)
    assert isinstance(after, TacticState) and "n * p <= m * p" in after.pp, after
    assert isinstance(env.run_tactic(after, closer, timeout=5), ProofFinished)
    assert ActionGenerator().mirrors(first_goal("n, m, p : Z\n⊢ n + p > m + p")) == [
        "rewrite (Z.add_comm n p), (Z.add_comm m p)"
    ]
    assert not ActionGenerator().mirrors(first_goal("x, y : R\n⊢ x * y = y * x"))
    assert not ActionGenerator().mirrors(first_goal("p : Z\n⊢ p * p <= p * p"))


def test_a_variable_of_an_inductive_type_is_taken_apart(env, tmp_path):
    """A lemma about a function defined by cases (`flip (flip c) = c`) needs `destruct c` first: each
    constructor then computes (real Coq). The step is proposed for the goal's variables of a data type,
    not for reals or facts, and a disjunction or existential among the facts is taken apart too."""
    ref = _write(
        tmp_path,
        "flip_flip",
        "Inductive color := Red | Green.\n"
        "Definition flip c := match c with Red => Green | Green => Red end.\n\n"
        "Lemma flip_flip (c : color) : flip (flip c) = c.\nProof.\nAdmitted.\n",
    )
    st = env.start(ref)
    cands = [t for t, _ in ActionGenerator().generate(st.pp, [], 64)]
    step = "destruct c; simpl; auto"
    assert step in cands
    assert not isinstance(env.run_tactic(st, "simpl; auto", timeout=5), ProofFinished)
    assert isinstance(env.run_tactic(st, step, timeout=5), ProofFinished)
    g = first_goal("x : R\nb : Rbar\nH : Un_growing\nHo : x < 0 \\/ 0 < x\n⊢ Rbar_le b (Finite x)")
    assert g.data_variables() == ["b"]
    assert ActionGenerator().hypothesis_cases(g) == ["destruct Ho"]


def test_an_existential_goal_gets_its_witness_from_a_retrieved_lemma(env, tmp_path):
    """Coquelicot's `ex_series_geom` is `exists (/(1-q)). by apply is_series_geom.`: with the lemma
    retrieved, `eexists; eapply is_series_geom` finds the witness and leaves the lemma's premise
    (real Coq). A goal that is not existential gets no such step."""
    ref = _write(
        tmp_path,
        "geom",
        "Require Import Reals Coquelicot.Coquelicot.\n\n"
        "Lemma geom (q : R) : Rabs q < 1 -> ex_series (fun n => q ^ n).\nProof.\nAdmitted.\n",
    )
    st = _state(env, ref, "intros Hq")
    step = "eexists; eapply is_series_geom"
    assert step in [t for t, _ in ActionGenerator().generate(st.pp, ["is_series_geom"], 64)]
    assert not isinstance(env.run_tactic(st, "apply is_series_geom", timeout=10), TacticState)
    after = env.run_tactic(st, step, timeout=10)
    assert isinstance(after, TacticState) and "Rabs q < 1" in after.pp, after
    assert isinstance(env.run_tactic(after, "assumption", timeout=5), ProofFinished)
    assert not [t for t, _ in ActionGenerator().generate("x : R\n⊢ 0 < exp x", ["exp_pos"], 64) if "eexists" in t]


def test_a_constant_of_the_goal_is_unfolded_for_the_closers(env, tmp_path):
    """`lra` reads `double x` as an atom; after `unfold double` it sees `x + x` (real Coq). Variables of
    the context and keywords are not offered for unfolding."""
    ref = _write(
        tmp_path,
        "double_twice",
        "Require Import Reals Lra.\nOpen Scope R_scope.\nDefinition double (x : R) := x + x.\n\n"
        "Lemma double_twice (x : R) : double x = 2 * x.\nProof.\nAdmitted.\n",
    )
    st = env.start(ref)
    assert "unfold double" in [t for t, _ in ActionGenerator().generate(st.pp, [], 64)]
    assert not isinstance(env.run_tactic(st, "lra", timeout=5), ProofFinished)
    after = env.run_tactic(st, "unfold double", timeout=5)
    assert isinstance(after, TacticState) and isinstance(env.run_tactic(after, "lra", timeout=5), ProofFinished)
    g = first_goal("f : R -> R\nx0 : R\n⊢ forall y, continuity_pt f (x0 + y)")
    assert ActionGenerator().unfoldings(g) == ["unfold continuity_pt"]
