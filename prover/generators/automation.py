"""A fixed list of automation tactics, scored by rank: the baseline a Coq user has without us."""
from __future__ import annotations

import math
from typing import Sequence

from prover.generators.base import BatchByLoop, Candidate

# Closers tried after `intros` (what a Coq user reaches for), then structural steps.
DEFAULT_CLOSERS = (
    "lia", "nia", "lra", "nra", "field", "ring", "subst; lra", "subst; nia", "firstorder",
    "sauto", "auto with *", "tauto", "reflexivity", "congruence", "easy",
)


# What the closers need in scope; the environment puts these before each theorem's context.
AUTOMATION_IMPORTS = ("From Coq Require Import Lia Lra Psatz.", "From Hammer Require Import Tactics.")


class AutomationGenerator(BatchByLoop):
    """Proposes `intros; T` and `T` for every closer T, then a few structural steps.

    Scores are log(1/rank) style, so best-first search tries closers before structure.
    """

    required_imports = AUTOMATION_IMPORTS

    def __init__(self, closers: Sequence[str] = DEFAULT_CLOSERS, steps: Sequence[str] = ("intros", "split")):
        self.closers = tuple(closers)
        self.steps = tuple(steps)

    def _ranked(self, state_pp: str) -> list[str]:
        has_binder = "⊢ forall" in state_pp or "⊢ ~" in state_pp or " -> " in state_pp.split("⊢")[-1]
        out = [f"intros; {c}" for c in self.closers] if has_binder else []
        out += list(self.closers) + list(self.steps)
        return out

    def generate(self, state_pp: str, premises: Sequence[str], num: int) -> list[Candidate]:
        ranked = self._ranked(state_pp)
        return [(t, -math.log(i + 1)) for i, t in enumerate(ranked[:num])]

    def generate_proofs(self, statement: str, num: int) -> list[Candidate]:
        return [(f"intros; {c}.", -math.log(i + 1)) for i, c in enumerate(self.closers[:num])]
