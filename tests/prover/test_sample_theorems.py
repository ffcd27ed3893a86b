"""A fixed random sample of a split: `sample_theorems` (`eval --sample N --seed S`)."""

from __future__ import annotations

import random

from proofsmith.envs.base import TheoremRef
from proofsmith.prover.benchmark import BenchTheorem, sample_theorems


def _theorems(n: int) -> list[BenchTheorem]:
    return [BenchTheorem(TheoremRef(f"t{i}", statement=f"Theorem t{i} : True."), "test") for i in range(n)]


def test_sample_is_fixed_by_the_keys_and_the_seed():
    pool = _theorems(200)
    a = sample_theorems(pool, 30)
    shuffled = pool[:]
    random.Random(1).shuffle(shuffled)
    assert [t.key for t in sample_theorems(shuffled, 30)] == [t.key for t in a]  # order of the split is irrelevant
    assert len({t.key for t in a}) == 30 and {t.key for t in a} <= {t.key for t in pool}
    assert {t.key for t in sample_theorems(pool, 10)} <= {t.key for t in a}  # a larger sample holds a smaller
    assert {t.key for t in sample_theorems(pool, 30, seed=1)} != {t.key for t in a}
    assert [t.key for t in a] != [t.key for t in pool[:30]]  # not the first N
    assert len(sample_theorems(pool[:5], 30)) == 5
