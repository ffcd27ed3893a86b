"""Bad input fails fast, through the real CLI: one line on stderr (`proofsmith: error: ...`), exit 2,
no traceback, nothing written, and no Ray worker, prover or model started."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from proofsmith.cli.main import main

GOOD_V = "Theorem t : 1 = 1.\nProof. Admitted.\n"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace: a good .v file, a .txt, an empty folder, a folder that is not a model, a minimal
    traced dataset, a .v file without theorems, and a results file recorded with another configuration."""
    (tmp_path / "t.v").write_text(GOOD_V)
    (tmp_path / "none.v").write_text("Definition x := 1.\n")
    (tmp_path / "x.txt").write_text("not a proof\n")
    (tmp_path / "a.thy").write_text('theory a imports Main begin\nlemma l: "True" by simp\nend\n')
    (tmp_path / "empty").mkdir()
    (tmp_path / "notamodel").mkdir()
    (tmp_path / "notamodel" / "README").write_text("hello\n")
    (tmp_path / "model").mkdir()  # passes the up-front model check (config.json); never loaded
    (tmp_path / "model" / "config.json").write_text("{}")
    data = tmp_path / "data"
    for strategy in ("random", "novel_premises"):
        (data / strategy).mkdir(parents=True)
        for part in ("train", "val", "test"):
            (data / strategy / f"{part}.json").write_text("[]")
    (data / "corpus.jsonl").write_text("")
    (tmp_path / "badindex").mkdir()  # a dense index whose metadata names no corpus
    (tmp_path / "badindex" / "index_meta.json").write_text('{"extra": {}}')
    # results of a job with another theorem budget
    old = tmp_path / "old.jsonl"
    old.write_text('{"key": "k", "theorem": "t", "status": "proved"}\n')
    (tmp_path / "old.jsonl.config.json").write_text(
        json.dumps(
            {
                "backend": "coq",
                "generator": "auto",
                "theorem_timeout": 1.0,
                "tactic_timeout": 5.0,
                "num_sampled_tactics": 64,
                "max_expansions": None,
            }
        )
    )
    return tmp_path


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(root.rglob("*"))}


# (id, argv with {ws} for the workspace); every case is bad input
CASES: dict[str, list[tuple[str, str]]] = {
    "check": [
        ("missing", "check {ws}/nope.v"),
        ("empty-folder", "check {ws}/empty"),
        ("wrong-kind", "check {ws}/x.txt"),
        ("no-theorem", "check {ws}/none.v"),
    ],
    "shell": [
        ("missing", "shell {ws}/nope.v"),
        ("empty-folder", "shell {ws}/empty"),
        ("wrong-kind", "shell {ws}/x.txt"),
    ],
    "prove": [
        ("missing", "prove {ws}/nope --out {ws}/r.jsonl"),
        ("empty-folder", "prove {ws}/empty --out {ws}/r.jsonl"),
        ("wrong-kind", "prove {ws}/x.txt --out {ws}/r.jsonl"),
        ("no-theorem", "prove {ws}/none.v --out {ws}/r.jsonl"),
        ("bogus-generator", "prove {ws}/t.v --generator bogus --out {ws}/r.jsonl"),
        ("knn-nope", "prove {ws}/t.v --generator knn:/nope --out {ws}/r.jsonl"),
        ("hf-nope", "prove {ws}/t.v --generator hf:/nope --out {ws}/r.jsonl"),
        ("knn-empty", "prove {ws}/t.v --generator knn:{ws}/empty --out {ws}/r.jsonl"),
        ("hf-not-a-model", "prove {ws}/t.v --generator hf:{ws}/notamodel --out {ws}/r.jsonl"),
        ("ensemble-member", "prove {ws}/t.v --generator ensemble:auto+knn:/nope --out {ws}/r.jsonl"),
        ("ensemble-empty", "prove {ws}/t.v --generator ensemble: --out {ws}/r.jsonl"),
        ("other-config", "prove {ws}/t.v --out {ws}/old.jsonl"),
        ("premises-missing", "prove {ws}/t.v --premises {ws}/nope --out {ws}/r.jsonl"),
        ("premises-index-no-corpus", "prove {ws}/t.v --premises {ws}/badindex --out {ws}/r.jsonl"),
        ("bad-frontier", "prove {ws}/t.v --frontier sideways --out {ws}/r.jsonl"),
        ("other-config-timeout-alias", "prove {ws}/t.v --timeout 2 --out {ws}/old.jsonl"),
        ("negative-timeout", "prove {ws}/t.v --theorem-timeout -1 --out {ws}/r.jsonl"),
        ("zero-workers", "prove {ws}/t.v --workers 0 --out {ws}/r.jsonl"),
        ("out-is-a-folder", "prove {ws}/t.v --out {ws}/empty"),
        ("not-a-number", "prove {ws}/t.v --tactic-timeout soon --out {ws}/r.jsonl"),
        ("missing-option", "prove {ws}/t.v"),
        ("openai-no-url", "prove {ws}/t.v --generator openai:m --out {ws}/r.jsonl"),
        ("openai-not-http", "prove {ws}/t.v --generator openai:m@ftp://h --out {ws}/r.jsonl"),
        ("openai-bad-option", "prove {ws}/t.v --generator openai:m@http://127.0.0.1:9#temp=1 --out {ws}/r.jsonl"),
        ("openai-no-server", "prove {ws}/t.v --generator openai:m@http://127.0.0.1:1 --out {ws}/r.jsonl"),
        ("bad-mode", "prove {ws}/t.v --mode guess --out {ws}/r.jsonl"),
        ("whole-proof-needs-openai", "prove {ws}/t.v --mode whole-proof --generator auto --out {ws}/r.jsonl"),
        ("negative-repair-rounds", "prove {ws}/t.v --repair-rounds -1 --out {ws}/r.jsonl"),
        ("zero-num-proofs", "prove {ws}/t.v --num-proofs 0 --out {ws}/r.jsonl"),
        (
            "whole-proof-shared-model",
            "prove {ws}/t.v --mode both --shared-model --generator openai:m@http://127.0.0.1:9 --out {ws}/r.jsonl",
        ),
    ],
    "eval": [
        ("missing", "eval --data {ws}/nope --out {ws}/r.jsonl"),
        ("empty-folder", "eval --data {ws}/empty --out {ws}/r.jsonl"),
        ("wrong-kind", "eval --data {ws}/x.txt --out {ws}/r.jsonl"),
        ("no-split", "eval --data {ws}/data --split random/other --out {ws}/r.jsonl"),
        ("bogus-generator", "eval --data {ws}/data --generator bogus --out {ws}/r.jsonl"),
        ("knn-nope", "eval --data {ws}/data --generator knn:/nope --out {ws}/r.jsonl"),
        ("hf-nope", "eval --data {ws}/data --generator hf:/nope --out {ws}/r.jsonl"),
        ("other-config", "eval --data {ws}/data --out {ws}/old.jsonl"),
        ("empty-split", "eval --data {ws}/data --out {ws}/r.jsonl"),
        ("sample-zero", "eval --data {ws}/data --sample 0 --out {ws}/r.jsonl"),
        ("knn-leaks", "eval --data {ws}/data --split novel_premises/test --generator knn:{ws}/data --out {ws}/r.jsonl"),
        ("sample-and-limit", "eval --data {ws}/data --sample 5 --limit 5 --out {ws}/r.jsonl"),
    ],
    "demo": [
        ("missing", "demo --bench {ws}/nope --cache {ws}/cache"),
        ("empty-folder", "demo --bench {ws}/empty --cache {ws}/cache"),
        ("wrong-kind", "demo --bench {ws}/x.txt --cache {ws}/cache"),
        ("hf-nope", "demo --bench {ws}/t.v --model /nope --cache {ws}/cache"),
        ("cache-is-a-file", "demo --bench {ws}/t.v --cache {ws}/x.txt"),
    ],
    "trace": [
        ("missing", "trace {ws}/nope --out {ws}/traced"),
        ("empty-folder", "trace {ws}/empty --out {ws}/traced"),
        ("wrong-kind", "trace {ws}/x.txt --out {ws}/traced"),
        ("out-is-a-file", "trace {ws} --out {ws}/x.txt"),
    ],
    "corpus": [
        ("unknown-package", "corpus --packages libcoq-nope --out {ws}/c"),
        ("excluded-package", "corpus --packages libcoq-interval --out {ws}/c"),
        ("empty-package-name", "corpus --packages coquelicot,, --out {ws}/c"),
        ("out-is-a-file", "corpus --packages coquelicot --out {ws}/x.txt"),
        ("missing-out", "corpus --packages coquelicot"),
        ("zero-workers", "corpus --workers 0 --out {ws}/c"),
        ("list-missing", "corpus --package-list {ws}/nope.toml --out {ws}/c"),
        ("list-not-toml", "corpus --package-list {ws}/x.txt --out {ws}/c"),
    ],
    "index": [
        ("missing", "index --data {ws}/nope --model m --out {ws}/idx"),
        ("empty-folder", "index --data {ws}/empty --model m --out {ws}/idx"),
        ("wrong-kind", "index --corpus {ws}/x.txt --model m --out {ws}/idx"),
        ("model-nope", "index --data {ws}/data --model /nope --out {ws}/idx"),
        ("model-not-a-model", "index --data {ws}/data --model {ws}/notamodel --out {ws}/idx"),
    ],
    "retrieve": [
        ("missing", "retrieve x --index /nope"),
        ("empty-folder", "retrieve x --index {ws}/empty"),
        ("wrong-kind", "retrieve x --index {ws}/x.txt"),
        ("bm25-missing", "retrieve x --bm25 {ws}/nope"),
        ("bm25-empty-folder", "retrieve x --bm25 {ws}/empty"),
        ("bm25-wrong-kind", "retrieve x --bm25 {ws}/x.txt"),
    ],
    "train-retriever": [
        ("missing", "train-retriever --data {ws}/nope --out {ws}/ckpt"),
        ("empty-folder", "train-retriever --data {ws}/empty --out {ws}/ckpt"),
        ("wrong-kind", "train-retriever --data {ws}/x.txt --out {ws}/ckpt"),
        ("model-nope", "train-retriever --data {ws}/data --model /nope --out {ws}/ckpt"),
    ],
    "eval-retriever": [
        ("missing", "eval-retriever --data {ws}/nope --json {ws}/m.json"),
        ("empty-folder", "eval-retriever --data {ws}/empty --json {ws}/m.json"),
        ("wrong-kind", "eval-retriever --data {ws}/x.txt --json {ws}/m.json"),
        ("index-nope", "eval-retriever --data {ws}/data --index /nope --json {ws}/m.json"),
        ("model-nope", "eval-retriever --data {ws}/data --model /nope --json {ws}/m.json"),
    ],
    "train": [
        ("missing", "train --data {ws}/nope --out {ws}/model"),
        ("empty-folder", "train --data {ws}/empty --out {ws}/model"),
        ("wrong-kind", "train --data {ws}/x.txt --out {ws}/model"),
        ("init-nope", "train --data {ws}/data --init /nope --out {ws}/model"),
        ("mutants-missing", "train --data {ws}/data --mutants {ws}/nope --out {ws}/model"),
        ("mutants-wrong-kind", "train --data {ws}/data --mutants {ws}/x.txt --out {ws}/model"),
        ("retriever-nope", "train --data {ws}/data --retriever dense:/nope --out {ws}/model"),
    ],
    "eval-generator": [
        ("missing", "eval-generator --data {ws}/nope --out {ws}/g.json"),
        ("empty-folder", "eval-generator --data {ws}/empty --out {ws}/g.json"),
        ("wrong-kind", "eval-generator --data {ws}/x.txt --out {ws}/g.json"),
        ("knn-nope", "eval-generator --data {ws}/data --knn /nope --out {ws}/g.json"),
        ("hf-nope", "eval-generator --data {ws}/data --model /nope --out {ws}/g.json"),
        ("hf-nope-named", "eval-generator --data {ws}/data --model random=/nope --out {ws}/g.json"),
    ],
    "mutate": [
        ("missing", "mutate --dataset {ws}/nope --out {ws}/mut"),
        ("empty-folder", "mutate --dataset {ws}/empty --out {ws}/mut"),
        ("wrong-kind", "mutate --dataset {ws}/x.txt --out {ws}/mut"),
        ("bogus-kind", "mutate --dataset {ws}/data --kinds bogus --out {ws}/mut"),
    ],
    "iterate": [
        ("missing", "iterate {ws}/nope --out {ws}/it"),
        ("empty-folder", "iterate {ws}/empty --out {ws}/it"),
        ("no-theorems", "iterate {ws}/x.txt --out {ws}/it"),
        ("bogus-generator", "iterate {ws} --generator bogus --out {ws}/it"),
        ("zero-rounds", "iterate {ws} --rounds 0 --out {ws}/it"),
        ("bad-half", "iterate {ws} --half C --out {ws}/it"),
        ("base-not-dataset", "iterate {ws} --base-data {ws}/empty --out {ws}/it"),
        ("library-without-base", "iterate {ws} --library-split random/train --out {ws}/it"),
        ("out-is-file", "iterate {ws} --out {ws}/x.txt"),
    ],
    "serve": [
        ("missing-option", "serve"),
        ("model-missing", "serve --model {ws}/nope"),
        ("not-a-model", "serve --model {ws}/notamodel"),
        ("adapter-missing", "serve --model {ws}/model --adapter {ws}/nope"),
        ("adapter-not-lora", "serve --model {ws}/model --adapter {ws}/empty"),
        ("bad-port", "serve --model {ws}/model --port 70000"),
        ("zero-batch", "serve --model {ws}/model --max-batch 0"),
        ("negative-wait", "serve --model {ws}/model --batch-wait-ms -1"),
        ("bad-name", "serve --model {ws}/model --served-model-name a;b"),
        ("key-variable-unset", "serve --model {ws}/model --api-key-env PROOFSMITH_TEST_UNSET_VARIABLE"),
    ],
    "lean-verify": [
        ("missing", "lean-verify --file {ws}/nope.lean --name t --tactic rfl"),
        ("wrong-kind", "lean-verify --file {ws}/x.txt --name t --tactic rfl"),
        ("empty-folder", "lean-verify --file {ws}/empty --name t --tactic rfl"),
        ("project-missing", "lean-verify --statement s --tactic rfl --project {ws}/nope"),
        ("no-tactic", "lean-verify --statement s"),
    ],
    "isabelle": [
        ("missing", "isabelle verify --file {ws}/nope.thy --lemma l"),
        ("wrong-kind", "isabelle verify --file {ws}/x.txt --lemma l"),
        ("empty-folder", "isabelle verify --file {ws}/empty --lemma l"),
        ("dir-missing", "isabelle verify --file {ws}/a.thy --lemma l --dir {ws}/nope"),
    ],
    "fstar": [
        ("missing", "fstar verify --file {ws}/Nope.fst --name n"),
        ("wrong-kind", "fstar verify --file {ws}/x.txt --name n"),
        ("empty-folder", "fstar verify --file {ws}/empty --name n"),
    ],
}

PARAMS = [pytest.param(cmd, argv, id=f"{cmd}-{case}") for cmd, cases in CASES.items() for case, argv in cases]


def assert_one_error_line(err: str, out: str) -> None:
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("proofsmith: error: "), err
    assert "Traceback" not in err + out
    assert out == "", out


@pytest.mark.parametrize("command, argv", PARAMS)
def test_bad_input_is_one_line_and_writes_nothing(ws, capsys, command, argv):
    before = snapshot(ws)
    rc = main(argv.format(ws=ws).split())
    captured = capsys.readouterr()
    assert rc == 2, captured
    assert_one_error_line(captured.err, captured.out)
    assert snapshot(ws) == before  # no results file, no sidecar, no output folder
    ray = sys.modules.get("ray")
    assert ray is None or not ray.is_initialized()  # no worker was started


def test_every_subcommand_has_cases():
    from proofsmith.cli.main import SUBCOMMANDS

    assert set(SUBCOMMANDS) | {"lean-verify", "isabelle", "fstar"} <= set(CASES)


def test_bogus_generator_through_a_subprocess_is_fast_and_quiet(ws):
    out = ws / "r.jsonl"
    t0 = time.monotonic()
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "proofsmith.cli.main",
            "prove",
            str(ws / "t.v"),
            "--generator",
            "knn:/nope",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert_one_error_line(r.stderr, r.stdout)
    assert "knn:/nope" in r.stderr
    assert not out.exists() and not (ws / "r.jsonl.config.json").exists()
    assert time.monotonic() - t0 < 30  # no Ray start, no worker dying twice


def test_other_configuration_names_the_difference_and_keeps_the_file(ws, capsys):
    before = (ws / "old.jsonl").read_bytes()
    assert main(["prove", str(ws / "t.v"), "--out", str(ws / "old.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "theorem_timeout 1.0 -> 600.0" in err and "new --out" in err
    assert (ws / "old.jsonl").read_bytes() == before


def test_same_configuration_is_accepted(ws):
    from proofsmith.cli.errors import results_config
    from proofsmith.prover.distributed import JobConfig
    from proofsmith.prover.results import write_job_config
    from proofsmith.prover.search import SearchConfig

    cfg = JobConfig(search=SearchConfig(theorem_timeout=1.0)).results_config()
    results_config(ws / "old.jsonl", cfg)  # what the sidecar records: a rerun resumes
    write_job_config(ws / "fresh.jsonl", cfg)
    results_config(ws / "fresh.jsonl", cfg)
    results_config(ws / "legacy.jsonl", {"anything": 1})  # no sidecar yet: taken as it is


def test_unexpected_errors_show_a_traceback_only_with_verbose(ws, capsys, monkeypatch):
    import proofsmith.cli.check as check

    def boom(text):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(check, "list_theorems", boom)
    assert main(["check", str(ws / "t.v")]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        "proofsmith: error: RuntimeError: boom second line (rerun with -v for the traceback)"
    )
    with pytest.raises(RuntimeError, match="boom"):
        main(["-v", "check", str(ws / "t.v")])


def test_verbose_sets_the_log_level(ws, capsys):
    import logging

    main(["check", str(ws / "nope.v")])
    assert not logging.getLogger("proofsmith.cli").isEnabledFor(logging.INFO)
    main(["-v", "check", str(ws / "nope.v")])
    assert logging.getLogger("proofsmith.cli").isEnabledFor(logging.INFO)
    assert not logging.getLogger("proofsmith.cli").isEnabledFor(logging.DEBUG)
    main(["-vv", "check", str(ws / "nope.v")])
    assert logging.getLogger("proofsmith.cli").isEnabledFor(logging.DEBUG)
    main(["check", str(ws / "nope.v")])
    capsys.readouterr()


def test_time_limit_flags_and_their_aliases():
    """One name per limit; the old `--timeout` still works as an alias; defaults from envs/limits.py."""
    from proofsmith.cli.main import build_parser
    from proofsmith.envs import limits

    def parse(*argv):
        return build_parser(argv[0]).parse_args(list(argv))

    a = parse("prove", "b.v", "--out", "r.jsonl")
    assert (a.theorem_timeout, a.tactic_timeout) == (limits.THEOREM_TIMEOUT, limits.TACTIC_TIMEOUT)
    assert parse("prove", "b.v", "--out", "r", "--timeout", "7").theorem_timeout == 7.0
    assert (
        parse("eval", "--data", "d", "--out", "r", "--theorem-timeout", "7", "--tactic-timeout", "2").tactic_timeout
        == 2
    )
    assert parse("demo", "--timeout", "9").theorem_timeout == 9.0
    assert parse("shell", "f.v").tactic_timeout == limits.TACTIC_TIMEOUT
    assert parse("shell", "f.v", "--timeout", "3").tactic_timeout == 3.0
    assert parse("check", "f.v").verify_timeout == limits.VERIFY_TIMEOUT
    assert parse("check", "f.v", "--timeout", "4").verify_timeout == 4.0
    assert parse("trace", "src", "--out", "o").sentence_timeout == limits.SENTENCE_TIMEOUT
    assert parse("trace", "src", "--out", "o", "--timeout", "5").sentence_timeout == 5.0
    assert parse("mutate", "--dataset", "d", "--out", "o").tactic_timeout == limits.MUTATION_TACTIC_TIMEOUT
    lean = parse("lean-verify", "--statement", "s", "--timeout", "6")
    assert lean.command_timeout == 6.0
    assert parse("isabelle", "verify", "--file", "f", "--lemma", "l", "--timeout", "8").verify_timeout == 8.0
    assert parse("fstar", "verify", "--file", "f", "--name", "n").verify_timeout == limits.VERIFY_TIMEOUT


def test_eval_refuses_a_knn_indexing_random_train_for_another_split(ws, capsys):
    """random/train holds novel_premises (and novel_packages) test theorems: indexing it would leak."""
    argv = (
        f"eval --data {ws}/data --split novel_premises/test --generator ensemble:auto+knn:{ws}/data --out {ws}/r.jsonl"
    )
    assert main(argv.split()) == 2
    err = capsys.readouterr().err
    assert "random/train" in err and f"{ws}/data/novel_premises/train.json" in err
