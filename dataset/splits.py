"""The `random` and `novel_premises` splits of LeanDojo into train / val / test."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from proofsmith.dataset.schema import TheoremRecord

SPLIT_STRATEGIES = ("random", "novel_premises")
SPLIT_NAMES = ("train", "val", "test")
DEFAULT_SEED = 3407  # LeanDojo's
MAX_EVAL = 2000  # LeanDojo's val/test size; small datasets use a fraction instead


def eval_size(n: int, num_eval: int | None = None) -> int:
    """Theorems in each of val and test: LeanDojo's 2,000, or 10% of a smaller dataset."""
    return num_eval if num_eval is not None else min(MAX_EVAL, n // 10)


def _by_key(theorems: Sequence[TheoremRecord]) -> dict[tuple[str, str], list[TheoremRecord]]:
    """Records grouped by (file, name): a name that occurs twice never straddles two splits."""
    groups: dict[tuple[str, str], list[TheoremRecord]] = defaultdict(list)
    for t in sorted(theorems, key=lambda t: (t.key, t.start or (0, 0))):
        groups[t.key].append(t)
    return groups


def split_random(
    theorems: Sequence[TheoremRecord], seed: int = DEFAULT_SEED, num_eval: int | None = None
) -> dict[str, list[TheoremRecord]]:
    groups = _by_key(theorems)
    keys = sorted(groups)
    k = eval_size(len(keys), num_eval)
    random.Random(seed).shuffle(keys)
    n = len(keys)
    parts = {"train": keys[: n - 2 * k], "val": keys[n - 2 * k : n - k], "test": keys[n - k :]}
    return {name: [t for key in ks for t in groups[key]] for name, ks in parts.items()}


def split_novel_premises(
    theorems: Sequence[TheoremRecord], seed: int = DEFAULT_SEED, num_eval: int | None = None
) -> dict[str, list[TheoremRecord]]:
    """LeanDojo's rule: take the least-used premises first, moving every theorem that uses them to
    the val/test pool until it is big enough; so each val/test theorem uses a premise train never does."""
    groups = _by_key(theorems)
    ordered = sorted(groups)
    k = eval_size(len(ordered), num_eval)
    users: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(ordered):
        for name in set().union(*(t.premise_names() for t in groups[key])):
            users[name].append(i)
    pool: set[int] = set()
    for name in sorted(users, key=lambda p: (len(users[p]), p)):
        if len(pool) >= 2 * k:
            break
        pool.update(users[name])
    train = [key for i, key in enumerate(ordered) if i not in pool]
    evals = [ordered[i] for i in sorted(pool)]
    rng = random.Random(seed)
    rng.shuffle(train)
    rng.shuffle(evals)
    n_val = k if len(evals) >= 2 * k else len(evals) // 2

    def flat(ks):
        return [t for key in ks for t in groups[key]]

    return {"train": flat(train), "val": flat(evals[:n_val]), "test": flat(evals[n_val:])}


def make_splits(
    theorems: Sequence[TheoremRecord], seed: int = DEFAULT_SEED, num_eval: int | None = None
) -> dict[str, dict[str, list[TheoremRecord]]]:
    return {
        "random": split_random(theorems, seed, num_eval),
        "novel_premises": split_novel_premises(theorems, seed, num_eval),
    }
