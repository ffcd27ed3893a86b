"""The `TacticGenerator` protocol (ARCHITECTURE.md): state text (+ premises) → scored tactics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from proofsmith.envs.base import TheoremRef

Candidate = tuple[str, float]  # (tactic, log-probability-like score; higher is better)


@runtime_checkable
class TacticGenerator(Protocol):
    def generate(self, state_pp: str, premises: Sequence[str], num: int) -> list[Candidate]:
        """Up to `num` distinct tactics for the state, best first."""
        ...

    def generate_batch(
        self, states: Sequence[str], premises: Sequence[Sequence[str]], num: int
    ) -> list[list[Candidate]]: ...


@runtime_checkable
class WholeProofGenerator(Protocol):
    def generate_proofs(self, statement: str, num: int) -> list[Candidate]:
        """Up to `num` whole proof scripts for a statement (Best-of-N mode)."""
        ...


def for_theorem(generator: object, theorem: TheoremRef | None) -> None:
    """Tell a generator which theorem it is about to work on, if it wants to know (the k-NN with online
    examples does: which of them the theorem may see). Wrappers (ensemble, re-ranker) pass it on."""
    hook = getattr(generator, "for_theorem", None)
    if callable(hook):
        hook(theorem)


class BatchByLoop:
    """Mixin: `generate_batch` as a loop, for generators with no batched model call."""

    def generate_batch(self, states, premises, num):
        return [self.generate(s, p, num) for s, p in zip(states, premises)]


def dedupe_candidates(candidates: Sequence[Candidate], num: int) -> list[Candidate]:
    """Keep the best score per distinct (whitespace-normalised) tactic, best first."""
    best: dict[str, Candidate] = {}
    for tactic, score in candidates:
        key = " ".join(tactic.split())
        if key and (key not in best or score > best[key][1]):
            best[key] = (tactic.strip(), score)
    return sorted(best.values(), key=lambda c: -c[1])[:num]
