"""Everything downstream runs on a `proofsmith corpus` dataset (issue 16): `proofsmith mutate` reads the
per-package traced outputs (`packages/<pkg>/traced/`) and its verified mutants keep their original's
package and Coq flags (HoTT's `-noinit -indices-matter`, with which they are verified); `iterate
--library-split` and `scripts/bench_retrieval.py` take `novel_packages` where the dataset has it and refuse
it in one line (exit 2, nothing written) where it has not (`proofsmith trace`).

Real Coq and the installed Debian packages: a corpus of one small file of each of two packages (Coq's
`Arith.EqNat`, and HoTT's `Classes.theory.additional_operations`, traced with HoTT's flags), built with
the corpus machinery in a few seconds, and a `proofsmith trace` of a two-lemma project."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

import pytest

from proofsmith.cli.main import main
from proofsmith.dataset.loading import load_splits, read_split, traced_outputs
from proofsmith.dataset.splits import ALL_SPLIT_STRATEGIES, NOVEL_PACKAGES, SPLIT_NAMES
from proofsmith.envs.base import TheoremRef
from proofsmith.envs.coq import CoqEnvironment
from proofsmith.envs.coq.corpus import CorpusOptions, build_corpus, package_file
from proofsmith.mutation.sources import TracedDataset

REPO = Path(__file__).resolve().parents[2]
HOTT_FLAGS = ("-noinit", "-indices-matter")
FILES = {  # package → the one file of it in the corpus (each about 2 s to trace)
    "libcoq-stdlib": "Coq.Arith.EqNat",
    "libcoq-hott": "HoTT.Classes.theory.additional_operations",
}
PROJECT = """\
Lemma add_zero (n : nat) : n + 0 = n.
Proof. induction n as [|n IH]; simpl; [reflexivity | rewrite IH; reflexivity]. Qed.

Lemma add_zero_twice (n : nat) : n + 0 + 0 = n.
Proof. rewrite add_zero. apply add_zero. Qed.
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "data"
    packages = [package_file(name, library) for name, library in FILES.items()]
    assert [p.coq_flags for p in packages] == [(), HOTT_FLAGS]
    stats = build_corpus(packages, out, CorpusOptions(workers=1, progress=False))
    assert stats["files_failed"] == 0 and stats["traced_theorems"] >= 12, stats
    assert not (out / "traced").exists()  # a corpus keeps its per-file outputs per package
    return out


@pytest.fixture(scope="module")
def trace_data(tmp_path_factory) -> Path:
    """A `proofsmith trace` dataset: `random` and `novel_premises` only, per-file outputs in `traced/`."""
    ws = tmp_path_factory.mktemp("trace")
    (ws / "proj").mkdir()
    (ws / "proj" / "_CoqProject").write_text("-R . Proj\n")
    (ws / "proj" / "Lib.v").write_text(PROJECT)
    assert main(["trace", str(ws / "proj"), "--out", str(ws / "data"), "--workers", "1", "--quiet"]) == 0
    return ws / "data"


@pytest.fixture(scope="module")
def mutated(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mutants") / "out"
    assert main(["mutate", "--dataset", str(corpus), "--out", str(out), "--quiet"]) == 0
    return out


def _records(data: Path, strategy: str = "random") -> list:
    return [r for recs in load_splits(data, strategy).values() for r in recs]


# --------------------------------------------------------------------------- the per-file outputs
def test_traced_outputs_list_either_layout(corpus, trace_data):
    found = list(traced_outputs(corpus))
    assert sorted({o.package for o in found}) == sorted(FILES)
    assert all(o.path.is_relative_to(corpus / "packages" / o.package / "traced") for o in found)
    assert [json.loads(o.path.read_text())["library"] for o in found] == [FILES[o.package] for o in found]
    (plain,) = traced_outputs(trace_data)
    assert plain.package is None and plain.path == trace_data / "traced" / "Proj" / "Lib.json"
    # the mutation pipeline reads them: every theorem of the merged splits, with its package and flags
    ds = TracedDataset.load(corpus)
    merged = {r.key: r for r in _records(corpus)}
    assert {r.key: (r.package, r.coq_flags) for r in ds.records} == {
        k: (r.package, r.coq_flags) for k, r in merged.items()
    }
    hott_file = "HoTT/Classes/theory/additional_operations.v"
    assert ds.files[hott_file].coq_flags == HOTT_FLAGS and ds.files[hott_file].package == "libcoq-hott"
    # each file gets its own package's load paths: HoTT's `-R` never reaches the stdlib file
    assert [lp for _, lp in ds.load_paths_of(hott_file)] == ["HoTT"]
    assert ds.load_paths_of("Coq/Arith/EqNat.v") == ()
    assert {r.package for r in TracedDataset.load(trace_data).records} == {None}


# --------------------------------------------------------------------------- mutate
def test_mutate_on_a_corpus_verifies_mutants_that_keep_package_and_flags(corpus, mutated):
    stats = json.loads((mutated / "mutate_stats.json").read_text())
    originals = {r.full_name: r for r in _records(corpus)}
    assert stats["targets"] == len(originals) and not stats["chunk_errors"], stats
    mutants = _records(mutated)
    assert len(mutants) == stats["verified"] >= 5
    provenance = {json.loads(line)["full_name"]: json.loads(line) for line in (mutated / "mutants.jsonl").open()}
    for m in mutants:
        original = originals[provenance[m.full_name]["original"]]
        assert (m.package, m.coq_flags) == (original.package, original.coq_flags), m.full_name
    by_package = {p: [m for m in mutants if m.package == p] for p in FILES}
    assert by_package["libcoq-stdlib"] and all(m.coq_flags == () for m in by_package["libcoq-stdlib"])
    assert by_package["libcoq-hott"] and all(m.coq_flags == HOTT_FLAGS for m in by_package["libcoq-hott"])
    # every mutant has a package, so the output has the corpus's three strategies
    assert all((mutated / s / f"{part}.json").is_file() for s in ALL_SPLIT_STRATEGIES for part in SPLIT_NAMES)
    assert len(_records(mutated, NOVEL_PACKAGES)) == len(mutants)


def test_a_hott_mutant_verifies_with_the_flags_it_carries_and_not_without(corpus, mutated):
    """The flags a HoTT mutant carries are those it needs: its proof passes coqc and the audit with them (as
    the pipeline verified it), and coqc rejects the same file without them."""
    hott = next(m for m in _records(mutated) if m.package == "libcoq-hott")
    vfile = mutated / "mutants" / Path(*hott.file_path.split("/")[1:])  # Mutants/HoTT/... is OUT/mutants/HoTT/...
    original = TracedDataset.load(corpus).load_paths_of("HoTT/Classes/theory/additional_operations.v")
    paths = (*original, (str(mutated / "mutants"), "Mutants"))
    name = hott.full_name.rsplit(".", 1)[-1]
    chunks = [json.loads(c.read_text()) for c in (mutated / "work" / "chunks").glob("*.json")]
    (proof,) = [m["proof"] for c in chunks for m in c["mutants"] if m["name"] == name]  # the bridge proof
    with CoqEnvironment(tactic_timeout=20) as env:
        ref = TheoremRef.from_file(vfile, name, load_paths=paths, coq_flags=hott.coq_flags)
        verdict = env.verify(ref, proof)
        assert verdict.verified, verdict.reasons
        bare = env.verify(dataclasses.replace(ref, coq_flags=()), proof)
        assert not bare.verified and bare.reasons[0].startswith("coqc rejected"), bare.reasons


# --------------------------------------------------------------------------- iterate --library-split
def _pool(ws: Path) -> Path:
    (ws / "pool").mkdir(parents=True, exist_ok=True)
    (ws / "pool" / "t.v").write_text("Theorem t : True.\nProof.\nAdmitted.\n")
    return ws / "pool"


def test_iterate_takes_a_novel_packages_library_split_on_a_corpus(corpus, tmp_path, monkeypatch):
    """Accepted by the CLI (the search itself, on Ray, is not run here); the pool gets the split's theorems
    with their flags, and the k-NN is seeded from `novel_packages/train`, not `random/train`."""
    import proofsmith.prover.iterate as it

    seen = {}

    def no_search(cfg, out, **kw):  # what `run` hands over; the rounds would start Ray
        seen["cfg"] = cfg
        return []

    monkeypatch.setattr(it, "run_iterate", no_search)
    argv = ["iterate", str(_pool(tmp_path)), "--half", "all", "--base-data", str(corpus), "--out", str(tmp_path / "it")]
    assert main([*argv, "--library-split", f"{NOVEL_PACKAGES}/train"]) == 0
    cfg = seen["cfg"]
    assert cfg.library_split == f"{NOVEL_PACKAGES}/train" and cfg.base_strategy == NOVEL_PACKAGES
    train = read_split(corpus / NOVEL_PACKAGES / "train.json")
    pool = it.pool_theorems(cfg)
    library = [t for t in pool if t.note.startswith(f"{NOVEL_PACKAGES}/train split of")]
    assert len(library) == len(train) and len(pool) == len(train) + 1
    flags = {r.full_name.rsplit(".", 1)[-1]: r.coq_flags for r in train}
    assert all(t.ref.coq_flags == flags[t.ref.name] for t in library)
    assert any(t.ref.coq_flags == HOTT_FLAGS for t in library)
    steps = sum(len(r.traced_tactics) for r in train)
    random_steps = sum(len(r.traced_tactics) for r in read_split(corpus / "random" / "train.json"))
    assert steps > random_steps  # (no held-out package here: novel_packages/train is every theorem)
    assert it._knn(cfg.base_data, [], tmp_path / "knn", cfg.base_strategy) == steps
    # without --library-split, or with a random one, the k-NN reads random/train as before
    assert it.IterateConfig(pool=Path("p")).base_strategy == "random"
    assert dataclasses.replace(cfg, library_split="random/val").base_strategy == "random"


@pytest.mark.parametrize(
    "split, message",
    [
        (f"{NOVEL_PACKAGES}/train", f"--library-split {NOVEL_PACKAGES}: --base-data {{data}} has no {NOVEL_PACKAGES}"),
        ("novel_packages", "expected STRATEGY/PART"),
        ("bogus/train", "expected STRATEGY/PART with STRATEGY one of random, novel_premises, novel_packages"),
        ("random/dev", "PART one of train, val, test"),
    ],
)
def test_iterate_refuses_a_library_split_the_dataset_has_not_in_one_line(trace_data, tmp_path, capsys, split, message):
    pool = _pool(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    argv = [
        "iterate",
        str(pool),
        "--base-data",
        str(trace_data),
        "--library-split",
        split,
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(argv) == 2
    cap = capsys.readouterr()
    (line,) = [l for l in cap.err.splitlines() if l.strip()]
    assert line.startswith("proofsmith: error: ") and message.format(data=trace_data) in line, line
    if split.startswith(NOVEL_PACKAGES + "/"):
        assert "(it has random, novel_premises)" in line and "written by `proofsmith corpus`" in line
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written


# --------------------------------------------------------------------------- scripts/bench_retrieval.py
def _bench():
    spec = importlib.util.spec_from_file_location("bench_retrieval", REPO / "scripts" / "bench_retrieval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_retrieval_scores_every_strategy_of_a_corpus(corpus, tmp_path):
    import torch

    threads = torch.get_num_threads()
    ckpt = tmp_path / "ckpt"
    tiny = "--hidden-size 32 --layers 1 --heads 2 --vocab-size 300 --max-len 48".split()
    argv = ["train-retriever", "--data", str(corpus), "--out", str(ckpt), "--max-steps", "2", "--batch-size", "4"]
    try:
        assert main([*argv, *tiny, "--quiet"]) == 0
        out = tmp_path / "bench.json"
        assert (
            _bench().main(["--data", str(corpus), "--checkpoint", str(ckpt), "--queries", "3", "--out", str(out)]) == 0
        )
    finally:
        torch.set_num_threads(threads)
    res = json.loads(out.read_text())
    assert res["splits"] == list(ALL_SPLIT_STRATEGIES)  # the dataset's strategies, novel_packages included
    for retriever in ("bm25", "dense"):
        assert set(res["metrics"][retriever]) == set(ALL_SPLIT_STRATEGIES)
    assert f"| {NOVEL_PACKAGES} | bm25 |" in res["markdown"]


def test_bench_retrieval_refuses_novel_packages_on_a_trace_dataset(trace_data, tmp_path, capsys):
    out = tmp_path / "bench.json"
    argv = ["--data", str(trace_data), "--checkpoint", str(tmp_path), "--splits", NOVEL_PACKAGES, "--out", str(out)]
    assert _bench().main(argv) == 2
    (line,) = [l for l in capsys.readouterr().err.splitlines() if l.strip()]
    assert line.startswith("bench_retrieval: error: --splits novel_packages: --data")
    assert "(it has random, novel_premises)" in line and not out.exists()
