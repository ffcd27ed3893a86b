"""A fixed list of automation tactics, scored by rank: the baseline a Coq user has without us."""

from __future__ import annotations

import math
from collections.abc import Sequence

from proofsmith.prover.generators.base import BatchByLoop, Candidate

# Rewrites every `H : forall x, f x = ...` hypothesis (miniF2F's function definitions) everywhere.
REWRITE_DEFS = "repeat match goal with H : forall _, _ = _ |- _ => rewrite ?H in *; clear H end"

# Closers, cheapest and most productive first (order from a probe of which closer proves which
# development-benchmark theorem and how fast; see README "Proof search").
DEFAULT_CLOSERS = (
    "lra",
    "lia",
    f"{REWRITE_DEFS}; lra",
    "repeat split; lra",
    "nra",
    "nia",
    f"{REWRITE_DEFS}; nra",
    "repeat split; nra",
    f"{REWRITE_DEFS}; nia",
    "field",
    "field_simplify; lra",
    "split_Rabs; lra",
    "subst; lra",
    "subst; nia",
    "subst; nra",
    "ring",
    "reflexivity",
    "vm_compute; reflexivity",
    "firstorder",
    "tauto",
    "congruence",
    "easy",
    "sauto",
    "auto with *",
    "interval",
)
# Not CoqHammer's `hammer`: inside search it never finished within the 5 s tactic limit (no proof in any
# recorded run; 4.5-5.6 s per try, on every expanded state), and given 30 s it exhausted the prover's
# 4 GiB address-space limit on all 24 unproved random/val theorems of the math slice tried (translating
# the Reals/Coquelicot context for its ATPs). Its reconstruction tactics (`sauto`) stay.

# Structural steps, tried after the closers; the search then runs the closers on what they leave.
DEFAULT_STEPS = ("intros", "split", "repeat match goal with H : _ /\\ _ |- _ => destruct H end", "subst")

# What the closers need in scope; the environment puts these before each theorem's context.
AUTOMATION_IMPORTS = (
    "From Coq Require Import Lia Lra Psatz.",
    "From Hammer Require Import Hammer.",
    "From Interval Require Import Tactic.",
)


class AutomationGenerator(BatchByLoop):
    """Proposes `intros; T` and `T` for every closer T, then a few structural steps.

    Scores are log(1/rank) style, so best-first search tries closers before structure.
    """

    required_imports = AUTOMATION_IMPORTS

    def __init__(self, closers: Sequence[str] = DEFAULT_CLOSERS, steps: Sequence[str] = DEFAULT_STEPS):
        self.closers = tuple(closers)
        self.steps = tuple(steps)

    def _ranked(self, state_pp: str) -> list[str]:
        goal = state_pp.split("⊢")[-1]
        if goal.lstrip().startswith(("forall", "~")) or " -> " in goal:
            return [f"intros; {c}" for c in self.closers] + list(self.steps)
        return list(self.closers) + [s for s in self.steps if s != "intros"]

    def generate(self, state_pp: str, premises: Sequence[str], num: int) -> list[Candidate]:
        ranked = self._ranked(state_pp)
        return [(t, -math.log(i + 1)) for i, t in enumerate(ranked[:num])]

    def generate_proofs(self, statement: str, num: int) -> list[Candidate]:
        return [(f"intros; {c}.", -math.log(i + 1)) for i, c in enumerate(self.closers[:num])]
