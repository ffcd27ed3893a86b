"""Train / val / test splits: LeanDojo's `random` and `novel_premises`, and `novel_packages`
(whole library packages held out, as Graph2Tac and CoqGym evaluate) for multi-package corpora.

The functions take anything shaped like a `TheoremRecord` (`SplitItem` below): `proofsmith corpus`
splits light stand-ins and streams the full records to disk afterwards.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from proofsmith.dataset.schema import Pos

SPLIT_STRATEGIES = ("random", "novel_premises")  # written for every dataset
NOVEL_PACKAGES = "novel_packages"  # written when every theorem has a package (`proofsmith corpus`)
ALL_SPLIT_STRATEGIES = (*SPLIT_STRATEGIES, NOVEL_PACKAGES)
SPLIT_NAMES = ("train", "val", "test")
DEFAULT_SEED = 3407  # LeanDojo's
MAX_EVAL = 2000  # LeanDojo's val/test size; small datasets use a fraction instead

# The packages `novel_packages` holds out: a fixed choice, documented in docs/corpus.md. Each is a
# leaf of the Debian dependency graph (no other library of the corpus loads it, so no training proof
# is written in its terms), the two parts cover different fields, and each part is about 3 % of the
# corpus's theorems (estimated from the statements in the sources: val ~1,800, test ~2,000 of ~58,000).
NOVEL_PACKAGES_VAL = ("libcoq-coqeal", "libcoq-reglang", "libcoq-extructures")
NOVEL_PACKAGES_TEST = ("libcoq-coqprime", "libcoq-relation-algebra", "libcoq-mathcomp-abel")


class Splittable(Protocol):
    """What a split looks at: a `TheoremRecord`, or a light `SplitItem` standing in for one."""

    @property
    def key(self) -> tuple[str, str]: ...

    @property
    def start(self) -> Pos | None: ...

    @property
    def package(self) -> str | None: ...

    def premise_names(self) -> set[str]: ...


@dataclass(frozen=True)
class SplitItem:
    """A theorem as the splits see it, without its states and tactics (`ref` locates the full record)."""

    key: tuple[str, str]
    start: Pos | None
    package: str | None
    premises: frozenset[str]
    ref: int = 0

    def premise_names(self) -> set[str]:
        return set(self.premises)


T = TypeVar("T", bound=Splittable)


def eval_size(n: int, num_eval: int | None = None) -> int:
    """Theorems in each of val and test: LeanDojo's 2,000, or 10% of a smaller dataset."""
    return num_eval if num_eval is not None else min(MAX_EVAL, n // 10)


def _by_key(theorems: Sequence[T]) -> dict[tuple[str, str], list[T]]:
    """Records grouped by (file, name): a name that occurs twice never straddles two splits."""
    groups: dict[tuple[str, str], list[T]] = defaultdict(list)
    for t in sorted(theorems, key=lambda t: (t.key, t.start or (0, 0))):
        groups[t.key].append(t)
    return groups


def split_random(theorems: Sequence[T], seed: int = DEFAULT_SEED, num_eval: int | None = None) -> dict[str, list[T]]:
    groups = _by_key(theorems)
    keys = sorted(groups)
    k = eval_size(len(keys), num_eval)
    random.Random(seed).shuffle(keys)
    n = len(keys)
    parts = {"train": keys[: n - 2 * k], "val": keys[n - 2 * k : n - k], "test": keys[n - k :]}
    return {name: [t for key in ks for t in groups[key]] for name, ks in parts.items()}


def split_novel_premises(
    theorems: Sequence[T], seed: int = DEFAULT_SEED, num_eval: int | None = None
) -> dict[str, list[T]]:
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

    def flat(ks: list[tuple[str, str]]) -> list[T]:
        return [t for key in ks for t in groups[key]]

    return {"train": flat(train), "val": flat(evals[:n_val]), "test": flat(evals[n_val:])}


def split_novel_packages(
    theorems: Sequence[T],
    seed: int = DEFAULT_SEED,
    val_packages: Sequence[str] = NOVEL_PACKAGES_VAL,
    test_packages: Sequence[str] = NOVEL_PACKAGES_TEST,
) -> dict[str, list[T]]:
    """Whole packages held out: every theorem of a `val_packages` package in val, of a
    `test_packages` one in test, the rest in train; so no package straddles two parts and no val/test
    theorem's package is seen in training. Each part is shuffled with `seed` and its own name, so
    a part's order depends on its own theorems only. Held-out packages that
    the dataset lacks leave their part smaller (empty when none is there)."""
    val, test = set(val_packages), set(test_packages)
    if val & test:
        raise ValueError(f"packages both in val and test: {', '.join(sorted(val & test))}")
    unpackaged = [t.key for t in theorems if not t.package]
    if unpackaged:
        raise ValueError(f"novel_packages needs the package of every theorem; {unpackaged[0]} has none")
    parts: dict[str, list[T]] = {"train": [], "val": [], "test": []}
    by_key = _by_key(theorems)
    for key in sorted(by_key):  # a (file, name) lives in one package; its records move together
        group = by_key[key]
        pkg = group[0].package or ""
        parts["val" if pkg in val else "test" if pkg in test else "train"] += group
    for name in SPLIT_NAMES:  # shuffled by (file, name) groups, as the other strategies
        groups = _by_key(parts[name])
        keys = sorted(groups)
        # one generator per part: adding a train package leaves val and test in the same order, byte for byte
        random.Random(f"{seed}:{name}").shuffle(keys)
        parts[name] = [t for k in keys for t in groups[k]]
    return parts


def make_splits(
    theorems: Sequence[T], seed: int = DEFAULT_SEED, num_eval: int | None = None
) -> dict[str, dict[str, list[T]]]:
    """Every strategy that applies: `random` and `novel_premises` always; `novel_packages` when
    every theorem carries its package (and there is at least one theorem)."""
    out = {
        "random": split_random(theorems, seed, num_eval),
        "novel_premises": split_novel_premises(theorems, seed, num_eval),
    }
    if theorems and all(t.package for t in theorems):
        out[NOVEL_PACKAGES] = split_novel_packages(theorems, seed)
    return out
