"""Merge several generators into one mixture distribution over tactics."""

from __future__ import annotations

import math
from collections.abc import Sequence

from proofsmith.prover.generators.base import Candidate, TacticGenerator, dedupe_candidates, for_theorem
from proofsmith.prover.generators.prompt import normalize_tactic


def log_softmax(cands: Sequence[Candidate]) -> list[Candidate]:
    if not cands:
        return []
    m = max(s for _, s in cands)
    z = m + math.log(sum(math.exp(s - m) for _, s in cands))
    return [(t, s - z) for t, s in cands]


def required_imports(generators: Sequence[object]) -> tuple[str, ...]:
    """The union, in order, of what each generator needs imported."""
    out: list[str] = []
    for g in generators:
        out += [i for i in getattr(g, "required_imports", ()) if i not in out]
    return tuple(out)


class EnsembleGenerator:
    """A mixture of the members' distributions: each member's scores are normalised over its own
    candidates, weighted, and a tactic proposed by several members gets the sum of its probabilities,
    so agreement ranks a tactic up. Members generate batched (one model call per batch)."""

    def __init__(self, generators: Sequence[TacticGenerator], weights: Sequence[float] | None = None):
        self.generators = list(generators)
        self.weights = list(weights) if weights else [1.0] * len(self.generators)
        self.required_imports = required_imports(self.generators)

    def for_theorem(self, theorem: object) -> None:
        for gen in self.generators:
            for_theorem(gen, theorem)  # type: ignore[arg-type]

    def generate_batch(
        self, states: Sequence[str], premises: Sequence[Sequence[str]], num: int
    ) -> list[list[Candidate]]:
        per_member = [gen.generate_batch(states, premises, num) for gen in self.generators]
        return [self.mix([m[i] for m in per_member], num) for i in range(len(states))]

    def generate(self, state_pp: str, premises: Sequence[str], num: int) -> list[Candidate]:
        return self.generate_batch([state_pp], [premises], num)[0]

    def mix(self, member_candidates: Sequence[Sequence[Candidate]], num: int) -> list[Candidate]:
        total = sum(self.weights)
        parts: dict[str, list[float]] = {}
        text: dict[str, str] = {}
        for cands, w in zip(member_candidates, self.weights):
            for t, s in log_softmax(dedupe_candidates(cands, len(cands))):
                key = normalize_tactic(t)
                parts.setdefault(key, []).append(s + math.log(w / total))
                text.setdefault(key, t.strip())
        scored = [(text[k], _logsumexp(v)) for k, v in parts.items() if k]
        return sorted(scored, key=lambda c: -c[1])[:num]


def _logsumexp(xs: Sequence[float]) -> float:
    m = max(xs)
    return m + math.log(sum(math.exp(x - m) for x in xs))
