"""`novel_packages` downstream: `train`, `train-retriever`, `eval-retriever`, `eval-generator`, `eval`,
the retrieval pipeline and the mutation output accept it on a dataset that has it (a `proofsmith corpus`
dataset), and refuse it with one line and exit 2 before any work on one that has not (`proofsmith trace`).

The dataset is synthetic and small: four files, one package each (two train packages, one held out
for val, one for test); every tactic rewrites with the premise whose symbol its goal shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from proofsmith.cli.main import main
from proofsmith.dataset.corpus import Corpus
from proofsmith.dataset.loading import dataset_strategies, load_splits, split_files_text, write_dataset
from proofsmith.dataset.schema import CorpusFile, Premise, Provenance, TheoremRecord, TracedTactic
from proofsmith.dataset.splits import (
    ALL_SPLIT_STRATEGIES,
    NOVEL_PACKAGES,
    NOVEL_PACKAGES_TEST,
    NOVEL_PACKAGES_VAL,
    SPLIT_STRATEGIES,
)

FILES = {  # file → package: two train packages, one held out for val, one for test
    "Std/A.v": "libcoq-stdlib",
    "Std/B.v": "libcoq-flocq",
    "Reg/R.v": NOVEL_PACKAGES_VAL[0],
    "Prime/P.v": NOVEL_PACKAGES_TEST[0],
}
PER_FILE = 8
LIB = "Lib/L.v"
NUM_PREMISES = 6
TINY_ENCODER = "--hidden-size 32 --layers 1 --heads 2 --vocab-size 300 --max-len 48".split()
TINY_GENERATOR = (
    "--config tiny --pretrain-steps 0 --sft-steps 2 --batch-size 4 --eval-every 50 "
    "--max-input-tokens 64 --max-target-tokens 16 --num-premises 1 --quiet"
).split()


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: one thread is fastest on a shared machine
    yield
    torch.set_num_threads(n)


def make_corpus() -> Corpus:
    prems = tuple(
        Premise(f"Lib.L.op{k}", f"Lemma op{k} : forall n : nat, f{k} n = g n.", (k + 1, 1), (k + 1, 40), "Lemma")
        for k in range(NUM_PREMISES)
    )
    return Corpus([CorpusFile(LIB, (), prems)] + [CorpusFile(path, (LIB,), ()) for path in FILES])


def make_records(packaged: bool) -> list[TheoremRecord]:
    recs = []
    for f, (path, package) in enumerate(FILES.items()):
        lib = path[:-2].replace("/", ".")
        for j in range(PER_FILE):
            k = (f + j) % NUM_PREMISES
            prov = Provenance(f"Lib.L.op{k}", LIB, (k + 1, 7), (k + 1, 10))
            tactics = tuple(
                TracedTactic(f"rewrite op{k}.", (f"rewrite <a>op{k}</a>.", (prov,)), state, "no goals")
                for state in (f"n : nat\n⊢ f{k} (S n) = g (S n)", f"m : nat\n⊢ f{k} m = g m")[: 1 + j % 2]
            )
            recs.append(
                TheoremRecord(
                    "",
                    "",
                    path,
                    f"{lib}.t{j}",
                    (10 * j + 1, 1),
                    (10 * j + 5, 4),
                    tactics,
                    f"Lemma t{j} : forall n, f{k} n = g n.",
                    "coq",
                    package if packaged else None,
                )
            )
    return recs


@pytest.fixture(scope="module")
def corpus_data(tmp_path_factory) -> Path:
    """Like a `proofsmith corpus` dataset: every theorem has its package, so novel_packages is written."""
    out = tmp_path_factory.mktemp("corpus_data")
    write_dataset(out, make_records(True), make_corpus(), {"backend": "coq"}, num_eval=4)
    assert (out / NOVEL_PACKAGES / "train.json").is_file()
    return out


@pytest.fixture(scope="module")
def trace_data(tmp_path_factory) -> Path:
    """Like a `proofsmith trace` dataset: no package, so no novel_packages split."""
    out = tmp_path_factory.mktemp("trace_data")
    write_dataset(out, make_records(False), make_corpus(), {"backend": "coq"}, num_eval=4)
    assert not (out / NOVEL_PACKAGES).exists()
    return out


def keys(data: Path, strategy: str, part: str) -> set[tuple[str, str]]:
    return {r.key for r in load_splits(data, strategy)[part]}


def names(data: Path, strategy: str, part: str) -> set[str]:
    return {r.full_name for r in load_splits(data, strategy)[part]}


def test_the_synthetic_split_holds_packages_out(corpus_data):
    train, val, test = (names(corpus_data, NOVEL_PACKAGES, p) for p in ("train", "val", "test"))
    assert val == {f"Reg.R.t{j}" for j in range(PER_FILE)} and test == {f"Prime.P.t{j}" for j in range(PER_FILE)}
    assert len(train) == 2 * PER_FILE
    # the other strategies mix the held-out packages into their train parts: what novel_packages avoids
    assert names(corpus_data, "random", "train") & (val | test)


def test_dataset_strategies_default_to_the_two_and_add_novel_packages_when_present(corpus_data, trace_data):
    assert dataset_strategies(trace_data) == SPLIT_STRATEGIES == ("random", "novel_premises")
    assert dataset_strategies(corpus_data) == ALL_SPLIT_STRATEGIES
    assert split_files_text(trace_data).endswith("/{random,novel_premises}/{train,val,test}.json")
    assert split_files_text(corpus_data).endswith("/{random,novel_premises,novel_packages}/{train,val,test}.json")


# --------------------------------------------------------------------------- retrieval
def test_train_retriever_novel_packages_trains_on_its_train_part_then_evaluates(
    corpus_data, tmp_path, monkeypatch, capsys
):
    import proofsmith.retrieval.pipeline as pipeline

    seen: list[list[TheoremRecord]] = []
    build = pipeline.build_examples
    monkeypatch.setattr(pipeline, "build_examples", lambda recs, corpus: seen.append(list(recs)) or build(recs, corpus))
    ckpt = tmp_path / "ckpt"
    argv = ["train-retriever", "--data", str(corpus_data), "--out", str(ckpt), "--split", NOVEL_PACKAGES]
    assert main([*argv, "--max-steps", "3", "--batch-size", "8", *TINY_ENCODER, "--quiet"]) == 0
    (recs,) = seen
    assert {r.key for r in recs} == keys(corpus_data, NOVEL_PACKAGES, "train")
    assert {r.package for r in recs} == {"libcoq-stdlib", "libcoq-flocq"}  # no held-out package seen
    info = json.loads((ckpt / "training.json").read_text())
    assert info["train_split"] == NOVEL_PACKAGES and info["train_strategies"] == [NOVEL_PACKAGES]
    assert "novel_packages train" in capsys.readouterr().out

    out_json = tmp_path / "m.json"
    argv = ["eval-retriever", "--data", str(corpus_data), "--model", str(ckpt), "--splits", NOVEL_PACKAGES]
    assert main([*argv, "--json", str(out_json)]) == 0
    metrics = json.loads(out_json.read_text())["metrics"]
    assert set(metrics) == {"bm25", "dense"}
    test_tactics = sum(len(r.traced_tactics) for r in load_splits(corpus_data, NOVEL_PACKAGES)["test"])
    for by_split in metrics.values():
        assert set(by_split) == {NOVEL_PACKAGES}
        assert by_split[NOVEL_PACKAGES]["num_queries"] == test_tactics
    assert f"| {NOVEL_PACKAGES} | dense |" in capsys.readouterr().out


def test_both_draws_on_every_strategy_the_dataset_has(corpus_data, trace_data):
    from proofsmith.retrieval.pipeline import TRAIN_SPLITS, train_strategies, training_records

    assert TRAIN_SPLITS == ("both", *ALL_SPLIT_STRATEGIES)
    # a trace dataset: both = random ∩ novel_premises, as before
    assert train_strategies(trace_data, "both") == SPLIT_STRATEGIES
    both = {r.key for r in training_records(trace_data, "both")}
    assert both == keys(trace_data, "random", "train") & keys(trace_data, "novel_premises", "train")
    # a corpus dataset: novel_packages too, so no theorem of any test part is trained on
    assert train_strategies(corpus_data, "both") == ALL_SPLIT_STRATEGIES
    both = {r.key for r in training_records(corpus_data, "both")}
    assert both == set.intersection(*(keys(corpus_data, s, "train") for s in ALL_SPLIT_STRATEGIES))
    for s in ALL_SPLIT_STRATEGIES:
        assert both.isdisjoint(keys(corpus_data, s, "test") | keys(corpus_data, s, "val"))
    assert {r.key for r in training_records(corpus_data, NOVEL_PACKAGES)} == keys(corpus_data, NOVEL_PACKAGES, "train")
    with pytest.raises(FileNotFoundError, match="novel_packages split is not in this dataset"):
        training_records(trace_data, NOVEL_PACKAGES)


def test_eval_retriever_default_splits_follow_the_dataset(corpus_data, trace_data, tmp_path):
    for data, expected in ((trace_data, SPLIT_STRATEGIES), (corpus_data, ALL_SPLIT_STRATEGIES)):
        out = tmp_path / f"{data.name}.json"
        assert main(["eval-retriever", "--data", str(data), "--json", str(out)]) == 0
        assert tuple(json.loads(out.read_text())["metrics"]["bm25"]) == expected


# --------------------------------------------------------------------------- generator
@pytest.fixture(scope="module")
def trained_novel_packages(corpus_data, tmp_path_factory):
    """`proofsmith train --strategy novel_packages` (tiny, 2 SFT steps), with mutants of a test
    theorem and of a train theorem; returns (model dir, {call: theorem names given to the examples})."""
    import proofsmith.training.data as D

    mutants = tmp_path_factory.mktemp("mutants") / "mutants.jsonl"
    rows = []
    for original, name in (("Prime.P.t0", "Mut.m_test"), ("Std.A.t0", "Mut.m_train")):
        rec = make_records(True)[0].to_json() | {"full_name": name, "file_path": "Mut/M.v"}
        rows.append(json.dumps(rec | {"mutation": {"original": original}}))
    mutants.write_text("\n".join(rows) + "\n")
    out = tmp_path_factory.mktemp("gen") / "model"
    seen: list[set[str]] = []
    examples = D.tactic_examples
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            D, "tactic_examples", lambda recs, *a: seen.append({r.full_name for r in recs}) or examples(recs, *a)
        )
        argv = ["train", "--data", str(corpus_data), "--out", str(out), "--strategy", NOVEL_PACKAGES]
        assert main([*argv, "--mutants", str(mutants), *TINY_GENERATOR]) == 0
    return out, seen


def test_train_strategy_novel_packages_trains_on_that_split(corpus_data, trained_novel_packages):
    out, (train_names, val_names) = trained_novel_packages
    assert train_names == names(corpus_data, NOVEL_PACKAGES, "train") | {"Mut.m_train"}
    assert val_names == names(corpus_data, NOVEL_PACKAGES, "val")
    summary = json.loads((out / "train_summary.json").read_text())
    per_tactic = sum(len(r.traced_tactics) for r in load_splits(corpus_data, NOVEL_PACKAGES)["train"])
    assert summary["train_examples"] == per_tactic + 1  # + the one mutant kept
    assert summary["mutant_theorems"] == 1 and summary["mutants_dropped_as_leaks"] == 1  # its original is in test
    meta = json.loads((out / "generator.json").read_text())
    assert meta["train_config"]["strategy"] == NOVEL_PACKAGES


def test_eval_generator_scores_the_model_on_novel_packages_only(corpus_data, trained_novel_packages, tmp_path):
    model, _ = trained_novel_packages
    out = tmp_path / "gen.json"
    argv = ["eval-generator", "--data", str(corpus_data), "--model", str(model), "--k", "2"]
    assert main([*argv, "--out", str(out), "--quiet"]) == 0
    report = json.loads(out.read_text())
    assert tuple(report["results"]) == ALL_SPLIT_STRATEGIES  # the default: every strategy the dataset has
    assert report["models"] == {NOVEL_PACKAGES: str(model)}  # its training split, read from generator.json
    assert set(report["results"][NOVEL_PACKAGES]) == {"knn", "lora-model", "ensemble"}
    assert set(report["results"]["random"]) == {"knn"}  # random's test may hold its train theorems
    test_steps = sum(len(r.traced_tactics) for r in load_splits(corpus_data, NOVEL_PACKAGES)["test"])
    assert report["results"][NOVEL_PACKAGES]["knn"]["steps"] == test_steps
    # the k-NN of novel_packages is built from its train part, whose packages never hold a test goal's
    # theorem: it still matches them (the premise symbols repeat across packages)
    assert report["results"][NOVEL_PACKAGES]["knn"]["top1"] > 0

    named = tmp_path / "named.json"
    argv = ["eval-generator", "--data", str(corpus_data), "--model", f"{NOVEL_PACKAGES}={model}", "--no-knn"]
    assert main([*argv, "--splits", NOVEL_PACKAGES, "--k", "2", "--out", str(named), "--quiet"]) == 0
    assert set(json.loads(named.read_text())["results"]) == {NOVEL_PACKAGES}


# --------------------------------------------------------------------------- mutation output
def test_mutants_keep_their_package_and_get_novel_packages_with_provenance(corpus_data, tmp_path, monkeypatch):
    import proofsmith.mutation.pipeline as mp
    from proofsmith.mutation.mutator import Mutant
    from proofsmith.mutation.sources import TracedDataset, TracedFile

    records = make_records(True)
    ds = TracedDataset(corpus_data, {}, records, make_corpus())
    ctx = mp._Context(ds, {}, None, {}, tmp_path, mp.PipelineOptions())
    results = []
    for path, package in FILES.items():
        lib = path[:-2].replace("/", ".")
        original = next(r for r in records if r.file_path == path)
        name = f"{original.full_name.rsplit('.', 1)[-1]}_mut"
        traced = original.to_json() | {"full_name": f"Mutants.{lib}_0.{name}", "file_path": path}
        del traced["package"]  # the tracer of the mutant file knows no package
        monkeypatch.setattr(
            mp,
            "trace_file",
            lambda job, t=traced: {"theorems": [t], "corpus": {"premises": [], "imports": []}, "path": "m"},
        )
        m = Mutant(name, original.full_name, "rw", "rw", "Lib.L.op0", "goal", "rewrite op0.", "Lemma x.", [])
        m.status, m.key = "verified", f"{lib}.{name}"
        chunk, tf = mp.Chunk(f"{lib}_0", path, [original.full_name]), TracedFile(path, lib, "unused.v")
        recs, _ = mp._trace_mutants(ctx, chunk, tf, "", {name: m})
        assert [r["package"] for r in recs] == [package]  # the original's package
        result = {"id": f"{lib}_0", "counters": {}, "cpu_seconds": 0.0, "mutants": [m.to_json()], "records": recs}
        results.append(result | {"premises": [], "target_keys": {}})
    out = tmp_path / "out"
    chunks = [mp.Chunk(r["id"], "", []) for r in results]
    for c, r in zip(chunks, results):
        mp._chunk_path(out, c).parent.mkdir(parents=True, exist_ok=True)
        mp._chunk_path(out, c).write_text(json.dumps(r))
    stats = mp.aggregate(ds, out, chunks, {}, mp.PipelineOptions())
    assert stats["verified"] == len(FILES)
    assert split_files_text(out).endswith("/{random,novel_premises,novel_packages}/{train,val,test}.json")
    test = json.loads((out / NOVEL_PACKAGES / "test.json").read_text())
    assert [d["package"] for d in test] == [FILES["Prime/P.v"]]
    assert test[0]["mutation"]["original"] == "Prime.P.t0"  # provenance in the novel_packages files too
    for part in ("train", "val"):
        assert all("mutation" in d for d in json.loads((out / NOVEL_PACKAGES / f"{part}.json").read_text()))


# --------------------------------------------------------------------------- refusals
REFUSALS = {
    "train": "train --data {data} --out {ws}/model --strategy novel_packages",
    "train-retriever": "train-retriever --data {data} --out {ws}/ckpt --split novel_packages",
    "eval-retriever": "eval-retriever --data {data} --splits novel_packages --json {ws}/m.json",
    "eval-retriever-mixed": "eval-retriever --data {data} --splits random novel_packages --json {ws}/m.json",
    "eval-generator": "eval-generator --data {data} --splits novel_packages --out {ws}/g.json",
    "eval-generator-model": "eval-generator --data {data} --model novel_packages={ws}/model --out {ws}/g.json",
    "eval": "eval --data {data} --split novel_packages/test --out {ws}/r.jsonl",
}


@pytest.mark.parametrize("argv", REFUSALS.values(), ids=list(REFUSALS))
def test_novel_packages_on_a_trace_dataset_is_one_line_and_exit_2(trace_data, tmp_path, capsys, argv):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")  # passes a model check; never loaded
    before = sorted(p.name for p in tmp_path.rglob("*")), sorted(p.name for p in trace_data.rglob("*"))
    rc = main(argv.format(data=trace_data, ws=tmp_path).split())
    cap = capsys.readouterr()
    assert rc == 2 and cap.out == "" and "Traceback" not in cap.err
    (line,) = [l for l in cap.err.splitlines() if l.strip()]
    assert line.startswith("proofsmith: error: ")
    assert f"no {NOVEL_PACKAGES} split (it has random, novel_premises)" in line
    assert "written by `proofsmith corpus`" in line
    after = sorted(p.name for p in tmp_path.rglob("*")), sorted(p.name for p in trace_data.rglob("*"))
    assert after == before  # nothing written


def test_benchmark_load_split_names_the_strategies(trace_data):
    from proofsmith.prover.benchmark import load_split

    with pytest.raises(ValueError, match=r"<random\|novel_premises\|novel_packages>/<train\|val\|test>.*corpus"):
        load_split(trace_data, f"{NOVEL_PACKAGES}/test")


def test_help_texts_offer_novel_packages(capsys):
    for argv in (["train"], ["train-retriever"], ["eval-retriever"], ["eval-generator"], ["eval"]):
        with pytest.raises(SystemExit):
            main([*argv, "--help"])
        assert NOVEL_PACKAGES in capsys.readouterr().out, argv
