"""`prove` without --generator: the prover `make prover` built, else `auto` with a one-line note."""

import json

from proofsmith.cli.prove import default_prover
from proofsmith.prover.built import FALLBACK_GENERATOR, load_built, write_built


def test_built_prover_absent_falls_back_to_auto_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setenv("PROOFSMITH_PROVER", str(tmp_path / "none"))
    assert load_built() is None
    spec, premises, frontier, note = default_prover(None, None)
    assert (spec, premises, frontier) == (FALLBACK_GENERATOR, None, None)
    assert "\n" not in note and "make prover" in note


def test_built_prover_is_the_default_and_an_explicit_generator_wins(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("")
    write_built(tmp_path / "p", "ensemble:auto+actions", str(corpus), note="measured row", frontier="tactic")
    monkeypatch.setenv("PROOFSMITH_PROVER", str(tmp_path / "p"))
    spec, premises, frontier, note = default_prover(None, None)
    assert spec == "ensemble:auto+actions" and premises == corpus and frontier == "tactic"
    assert "ensemble:auto+actions" in note and "tactic frontier" in note
    assert default_prover("auto", None) == ("auto", None, None, "")
    other = tmp_path / "other.jsonl"
    assert default_prover(None, other)[:2] == ("ensemble:auto+actions", other)


def test_built_prover_whose_corpus_is_gone_is_not_used(tmp_path, monkeypatch):
    d = tmp_path / "p"
    write_built(d, "auto", str(tmp_path / "gone.jsonl"), note="")
    assert load_built(d) is None
    (d / "prover.json").write_text(json.dumps({"premises": None}))  # no generator: unreadable
    assert load_built(d) is None


def test_prove_searches_on_the_built_provers_frontier_unless_told_otherwise(tmp_path, monkeypatch):
    """The built prover's frontier reaches the job's SearchConfig; `--frontier` still wins."""
    from proofsmith.cli.main import build_parser
    from proofsmith.cli.options import search_config
    from proofsmith.prover.search import Frontier

    write_built(tmp_path / "p", "auto", None, note="", frontier="tactic")
    monkeypatch.setenv("PROOFSMITH_PROVER", str(tmp_path / "p"))
    for argv, want in (([], Frontier.TACTIC), (["--frontier", "node"], Frontier.NODE)):
        args = build_parser("prove").parse_args(["prove", "b.v", "--out", "r.jsonl", *argv])
        _, _, built_frontier, _ = default_prover(args.generator, args.premises)
        assert search_config(args, frontier=args.frontier or built_frontier).frontier is want
    args = build_parser("prove").parse_args(["prove", "b.v", "--out", "r.jsonl", "--generator", "auto"])
    _, _, built_frontier, _ = default_prover(args.generator, args.premises)
    assert search_config(args, frontier=args.frontier or built_frontier).frontier is Frontier.NODE
