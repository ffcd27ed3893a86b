"""`prove` without --generator: the prover `make prover` built, else `auto` with a one-line note."""

import json

from proofsmith.cli.prove import default_prover
from proofsmith.prover.built import FALLBACK_GENERATOR, load_built, write_built


def test_built_prover_absent_falls_back_to_auto_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setenv("PROOFSMITH_PROVER", str(tmp_path / "none"))
    assert load_built() is None
    spec, premises, note = default_prover(None, None)
    assert (spec, premises) == (FALLBACK_GENERATOR, None)
    assert "\n" not in note and "make prover" in note


def test_built_prover_is_the_default_and_an_explicit_generator_wins(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("")
    write_built(tmp_path / "p", "ensemble:auto+actions", str(corpus), note="measured row")
    monkeypatch.setenv("PROOFSMITH_PROVER", str(tmp_path / "p"))
    spec, premises, note = default_prover(None, None)
    assert spec == "ensemble:auto+actions" and premises == corpus
    assert "ensemble:auto+actions" in note
    assert default_prover("auto", None) == ("auto", None, "")
    other = tmp_path / "other.jsonl"
    assert default_prover(None, other)[:2] == ("ensemble:auto+actions", other)


def test_built_prover_whose_corpus_is_gone_is_not_used(tmp_path, monkeypatch):
    d = tmp_path / "p"
    write_built(d, "auto", str(tmp_path / "gone.jsonl"), note="")
    assert load_built(d) is None
    (d / "prover.json").write_text(json.dumps({"premises": None}))  # no generator: unreadable
    assert load_built(d) is None
