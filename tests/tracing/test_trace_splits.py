"""Split invariants (random / novel_premises), on synthetic records and on a real trace."""

import json
import random

import pytest

from proofsmith.dataset.loading import read_split
from proofsmith.dataset.schema import Provenance, TheoremRecord, TracedTactic
from proofsmith.dataset.splits import eval_size, make_splits, split_random


def record(i: int, premises: list[str]) -> TheoremRecord:
    provs = tuple(Provenance(p, "F.v", (1, 1), (1, 2)) for p in premises)
    tac = TracedTactic("auto.", ("auto.", provs), "⊢ P", "no goals")
    return TheoremRecord("u", "c", f"F{i % 3}.v", f"T.thm{i}", (i, 1), (i, 9), (tac,))


@pytest.fixture
def synthetic():
    rng = random.Random(0)
    common = [f"common{j}" for j in range(5)]
    rare = [f"rare{j}" for j in range(40)]
    recs = []
    for i in range(80):
        ps = rng.sample(common, 2) + ([rng.choice(rare)] if i % 2 else [])
        recs.append(record(i, ps))
    return recs


def check_partition(splits, recs):
    keys = [set(r.key for r in splits[n]) for n in ("train", "val", "test")]
    assert keys[0].isdisjoint(keys[1]) and keys[0].isdisjoint(keys[2]) and keys[1].isdisjoint(keys[2])
    assert keys[0] | keys[1] | keys[2] == {r.key for r in recs}
    assert sum(len(splits[n]) for n in splits) == len(recs)


def check_novel(splits):
    seen = set().union(*(r.premise_names() for r in splits["train"]))
    for name in ("val", "test"):
        for r in splits[name]:
            assert r.premise_names() - seen, f"{r.full_name} uses no premise unseen in train"


def test_trace_split_invariants_synthetic(synthetic):
    splits = make_splits(synthetic, seed=7, num_eval=6)
    for strategy in ("random", "novel_premises"):
        check_partition(splits[strategy], synthetic)
    check_novel(splits["novel_premises"])
    assert len(splits["random"]["val"]) == len(splits["random"]["test"]) == 6
    assert len(splits["novel_premises"]["val"]) == 6 and len(splits["novel_premises"]["test"]) >= 6
    # theorems without a rare premise cannot be novel
    assert all(
        any(p.startswith("rare") for p in r.premise_names())
        for n in ("val", "test")
        for r in splits["novel_premises"][n]
    )


def test_trace_splits_are_seeded(synthetic):
    a = make_splits(synthetic, seed=1, num_eval=6)
    b = make_splits(list(reversed(synthetic)), seed=1, num_eval=6)  # input order does not matter
    c = make_splits(synthetic, seed=2, num_eval=6)

    def keys(s):
        return {k: [r.key for r in v] for k, v in s["random"].items()}

    assert keys(a) == keys(b) and keys(a) != keys(c)


def test_trace_tiny_dataset_gives_valid_empty_splits():
    recs = [record(i, ["p"]) for i in range(5)]
    for strategy, splits in make_splits(recs).items():
        assert len(splits["train"]) == 5 and splits["val"] == [] and splits["test"] == [], strategy
    assert make_splits([])["novel_premises"] == {"train": [], "val": [], "test": []}


def test_trace_leandojo_split_sizes(fixtures_dir):
    """With LeanDojo Benchmark 4's theorem count, the random split has its exact sizes."""
    stats = json.loads((fixtures_dir / "leandojo/benchmark4_excerpts.json").read_text())["split_statistics"]
    n = stats["total_theorems_log"]
    assert eval_size(n) == 2000
    recs = [TheoremRecord("", "", "f", f"t{i}", None, None, ()) for i in range(n)]
    sizes = {k: len(v) for k, v in split_random(recs).items()}
    assert sizes == {"train": stats["random_train_len"], "val": 2000, "test": 2000}


def test_trace_novel_premises_on_real_trace(traced_project):
    _, out, _ = traced_project
    recs = [r for n in ("train", "val", "test") for r in read_split(out / "random" / f"{n}.json")]
    assert len(recs) == 5
    splits = make_splits(recs, num_eval=1)["novel_premises"]
    check_partition(splits, recs)
    check_novel(splits)
    assert splits["val"] and splits["test"]


def test_trace_duplicate_names_stay_in_one_split():
    recs = [record(i, [f"p{i}"]) for i in range(30)]
    twins = [
        TheoremRecord(r.url, r.commit, r.file_path, r.full_name, (99, 1), (99, 5), r.traced_tactics) for r in recs[:10]
    ]
    for strategy, splits in make_splits(recs + twins, num_eval=4).items():
        where = {}
        for name, part in splits.items():
            for r in part:
                assert where.setdefault(r.key, name) == name, (strategy, r.key)
        assert sum(len(p) for p in splits.values()) == 40
