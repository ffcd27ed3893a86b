"""The `novel_packages` split: whole packages held out, none in two parts, every val/test package
absent from train; the `package` field of the records; the three strategies through the loaders."""

from __future__ import annotations

import json
import random

import pytest

from proofsmith.dataset.corpus import Corpus
from proofsmith.dataset.loading import (
    iter_split,
    load_dataset_dict,
    load_splits,
    to_dataset_dict,
    write_dataset,
    write_split_file,
)
from proofsmith.dataset.schema import Provenance, TheoremRecord, TracedTactic
from proofsmith.dataset.splits import (
    ALL_SPLIT_STRATEGIES,
    NOVEL_PACKAGES,
    NOVEL_PACKAGES_TEST,
    NOVEL_PACKAGES_VAL,
    SplitItem,
    make_splits,
    split_novel_packages,
)

TRAIN_PACKAGES = ("libcoq-stdlib", "libcoq-mathcomp-ssreflect", "libcoq-flocq", "libcoq-corn")


def record(i: int, package: str | None, premises=("P.x",)) -> TheoremRecord:
    provs = tuple(Provenance(p, "P.v", (1, 1), (1, 2)) for p in premises)
    tac = TracedTactic("auto.", ("auto.", provs), "⊢ P", "no goals")
    lib = (package or "none").removeprefix("libcoq-")
    return TheoremRecord(
        "file:///x", "", f"{lib}/F{i % 4}.v", f"{lib}.F{i % 4}.t{i}", (i, 1), (i, 9), (tac,), "T", "coq", package
    )


@pytest.fixture
def corpus_records() -> list[TheoremRecord]:
    rng = random.Random(1)
    packages = TRAIN_PACKAGES + NOVEL_PACKAGES_VAL + NOVEL_PACKAGES_TEST
    return [record(i, rng.choice(packages), [f"P.p{rng.randrange(30)}"]) for i in range(400)]


def packages_of(recs) -> set[str]:
    return {r.package for r in recs}


def test_no_package_in_two_parts_and_val_test_packages_unseen_in_train(corpus_records):
    parts = split_novel_packages(corpus_records, seed=5)
    train, val, test = (packages_of(parts[n]) for n in ("train", "val", "test"))
    assert train.isdisjoint(val) and train.isdisjoint(test) and val.isdisjoint(test)
    for r in parts["val"] + parts["test"]:
        assert r.package not in train, f"{r.full_name} of {r.package} is in val/test and its package in train"
    assert val == set(NOVEL_PACKAGES_VAL) and test == set(NOVEL_PACKAGES_TEST)  # the fixed choice
    assert train == set(TRAIN_PACKAGES)
    assert sorted(r.key for p in parts.values() for r in p) == sorted(r.key for r in corpus_records)


def test_the_split_is_fixed_and_shuffled_by_seed(corpus_records):
    a = split_novel_packages(corpus_records, seed=5)
    b = split_novel_packages(list(reversed(corpus_records)), seed=5)
    c = split_novel_packages(corpus_records, seed=6)
    assert {n: [r.key for r in a[n]] for n in a} == {n: [r.key for r in b[n]] for n in b}  # input order: none
    assert {n: {r.key for r in a[n]} for n in a} == {n: {r.key for r in c[n]} for n in c}  # same members
    assert [r.key for r in a["train"]] != [r.key for r in c["train"]]  # another order


def test_adding_a_train_package_leaves_val_and_test_in_the_same_order(corpus_records):
    before = split_novel_packages(corpus_records, seed=5)
    extra = [record(1000 + i, "libcoq-unimath") for i in range(50)]
    after = split_novel_packages(corpus_records + extra, seed=5)
    for name in ("val", "test"):
        assert [r.key for r in after[name]] == [r.key for r in before[name]]
    assert len(after["train"]) == len(before["train"]) + 50


def test_other_held_out_packages_and_refusals(corpus_records):
    parts = split_novel_packages(corpus_records, val_packages=["libcoq-flocq"], test_packages=["libcoq-corn"])
    assert packages_of(parts["val"]) == {"libcoq-flocq"} and packages_of(parts["test"]) == {"libcoq-corn"}
    with pytest.raises(ValueError, match="both in val and test: libcoq-corn"):
        split_novel_packages(corpus_records, val_packages=["libcoq-corn"], test_packages=["libcoq-corn"])
    with pytest.raises(ValueError, match="needs the package of every theorem"):
        split_novel_packages(corpus_records + [record(999, None)])
    # held-out packages absent from the data: empty val/test, everything trains
    only_train = [r for r in corpus_records if r.package in TRAIN_PACKAGES]
    parts = split_novel_packages(only_train)
    assert parts["val"] == [] and parts["test"] == [] and len(parts["train"]) == len(only_train)


def test_make_splits_adds_novel_packages_only_for_packaged_records(corpus_records):
    assert set(make_splits(corpus_records, num_eval=10)) == set(ALL_SPLIT_STRATEGIES)
    unpackaged = [record(i, None) for i in range(30)]
    assert set(make_splits(unpackaged, num_eval=3)) == {"random", "novel_premises"}
    assert set(make_splits([], num_eval=0)) == {"random", "novel_premises"}


def test_light_items_split_exactly_like_records(corpus_records):
    items = [
        SplitItem(r.key, r.start, r.package, frozenset(r.premise_names()), k) for k, r in enumerate(corpus_records)
    ]
    for strategy, parts in make_splits(corpus_records, seed=3, num_eval=20).items():
        light = make_splits(items, seed=3, num_eval=20)[strategy]
        for name in parts:
            assert [r.key for r in parts[name]] == [corpus_records[it.ref].key for it in light[name]], (strategy, name)


def test_package_field_round_trips_and_stays_leandojo_shaped():
    with_pkg = record(1, "libcoq-flocq")
    d = with_pkg.to_json()
    assert d["package"] == "libcoq-flocq"
    assert TheoremRecord.from_json(json.loads(json.dumps(d))) == with_pkg
    without = record(2, None)
    assert "package" not in without.to_json()  # a plain trace keeps LeanDojo's keys (+ backend)
    leandojo = {k: v for k, v in without.to_json().items() if k not in ("backend", "theorem_statement")}
    assert TheoremRecord.from_json(leandojo, "coq").package is None


def test_three_strategies_load_through_load_dataset_dict(tmp_path, corpus_records):
    counts = write_dataset(tmp_path, corpus_records, Corpus([]), {"backend": "coq"}, num_eval=10)
    assert set(counts) == set(ALL_SPLIT_STRATEGIES)
    for strategy in ALL_SPLIT_STRATEGIES:
        dd = load_dataset_dict(tmp_path, strategy)
        assert {n: len(dd[n]) for n in dd} == counts[strategy]
        assert set(dd["train"]["package"]) <= set(TRAIN_PACKAGES + NOVEL_PACKAGES_VAL + NOVEL_PACKAGES_TEST)
    dd = load_dataset_dict(tmp_path, NOVEL_PACKAGES)
    assert set(dd["test"]["package"]) == set(NOVEL_PACKAGES_TEST)
    assert set(dd["train"]["package"]).isdisjoint(set(dd["val"]["package"]) | set(dd["test"]["package"]))


def test_streamed_split_file_reads_back(tmp_path):
    recs = [record(i, "libcoq-corn") for i in range(3)]
    n = write_split_file(tmp_path / "s" / "test.json", (json.dumps(r.to_json()) for r in recs))
    assert n == 3
    assert load_splits(tmp_path, "s")["test"] == recs
    assert write_split_file(tmp_path / "s" / "val.json", iter(())) == 0
    assert json.loads((tmp_path / "s" / "val.json").read_text()) == []


def test_iter_split_streams_any_chunking_of_a_json_array(tmp_path):
    objs = [{"a": '],[ "q" ,'}, {"b": [1, 2, {"c": "}"}]}, {}]
    path = tmp_path / "x.json"
    path.write_text(json.dumps(objs, indent=1))
    for chunk in (1, 2, 3, 7, 1 << 20):
        assert list(iter_split(path, chunk)) == objs, chunk
    for empty in ("[]", " [\n ] "):
        path.write_text(empty)
        assert list(iter_split(path, 1)) == []
    path.write_text('{"a": 1}')
    with pytest.raises(ValueError):
        list(iter_split(path))


def test_streamed_dataset_dict_equals_the_in_memory_one_and_follows_rewrites(tmp_path, corpus_records):
    write_dataset(tmp_path, corpus_records, Corpus([]), {"backend": "coq"}, num_eval=10)
    for strategy in ALL_SPLIT_STRATEGIES:
        streamed = load_dataset_dict(tmp_path, strategy)
        in_memory = to_dataset_dict(load_splits(tmp_path, strategy))
        assert {n: streamed[n].to_list() for n in streamed} == {n: in_memory[n].to_list() for n in in_memory}
    # a split file written again (fewer records) is read again, not served from the Arrow cache
    path = tmp_path / "random" / "val.json"
    write_split_file(path, (json.dumps(r.to_json()) for r in load_splits(tmp_path)["val"][:3]))
    assert len(load_dataset_dict(tmp_path)["val"]) == 3
