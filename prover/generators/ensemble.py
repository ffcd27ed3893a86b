"""Merge several generators: normalise each one's scores to log-probabilities, dedupe, keep the best."""
from __future__ import annotations

import math
from typing import Sequence

from prover.generators.base import BatchByLoop, Candidate, TacticGenerator, dedupe_candidates


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


class EnsembleGenerator(BatchByLoop):
    def __init__(self, generators: Sequence[TacticGenerator], weights: Sequence[float] | None = None):
        self.generators = list(generators)
        self.weights = list(weights) if weights else [1.0] * len(self.generators)
        self.required_imports = required_imports(self.generators)

    def generate(self, state_pp: str, premises: Sequence[str], num: int) -> list[Candidate]:
        merged: list[Candidate] = []
        for gen, w in zip(self.generators, self.weights):
            merged += [(t, s + math.log(w)) for t, s in log_softmax(gen.generate(state_pp, premises, num))]
        return dedupe_candidates(merged, num)
