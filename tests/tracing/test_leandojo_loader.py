"""LeanDojo Benchmark 4 loader: the real excerpts in tests/fixtures/leandojo (partial records)."""

import json

import pytest

from proofsmith.dataset.corpus import Corpus
from proofsmith.dataset.leandojo import corpus_file_from_leandojo, load_benchmark, theorem_from_leandojo


@pytest.fixture(scope="module")
def fixtures(fixtures_dir):
    d = fixtures_dir / "leandojo"
    return {
        name: json.loads((d / f"{name}.json").read_text())
        for name in ("benchmark4_excerpts", "dojo_demo_transcript", "premises_Mathlib_Algebra_BigOperators_Pi")
    }


@pytest.fixture
def bench_dir(tmp_path, fixtures):
    """A benchmark directory in the documented layout, filled with the real excerpts."""
    ex = fixtures["benchmark4_excerpts"]["theorem_record_excerpt"]
    rec = {k: v for k, v in ex.items() if not k.startswith("_") and k != "traced_tactics_last"}
    rec["traced_tactics"] = [ex["traced_tactics_last"]]
    demo = fixtures["dojo_demo_transcript"]["traced_theorem"]
    demo_rec = {
        "url": rec["url"],
        "commit": rec["commit"],
        **{k: demo[k] for k in ("file_path", "full_name", "start", "end", "traced_tactics")},
    }
    for strategy in ("random", "novel_premises"):
        (tmp_path / strategy).mkdir()
        (tmp_path / strategy / "train.json").write_text(json.dumps([rec, demo_rec]))
        (tmp_path / strategy / "val.json").write_text("[]")
        (tmp_path / strategy / "test.json").write_text("[]")
    pi = fixtures["premises_Mathlib_Algebra_BigOperators_Pi"]
    star = fixtures["benchmark4_excerpts"]["corpus_line_excerpt"]
    lines = [
        {k: star[k] for k in ("path", "imports", "premises")},
        {"path": pi["path"], "imports": ["Mathlib/Algebra/Star/Prod.lean"], "premises": pi["premises"]},
    ]
    (tmp_path / "corpus.jsonl").write_text("".join(json.dumps(l) + "\n" for l in lines))
    (tmp_path / "metadata.json").write_text(json.dumps({"from_repo": {"url": rec["url"], "commit": rec["commit"]}}))
    return tmp_path


def test_leandojo_theorem_record_excerpt(fixtures):
    ex = fixtures["benchmark4_excerpts"]["theorem_record_excerpt"]
    r = theorem_from_leandojo({**ex, "traced_tactics": [ex["traced_tactics_last"]]})
    assert r.backend == "lean" and r.full_name == "Algebra.intTrace_eq_trace" and r.start is None
    t = r.traced_tactics[0]
    assert t.state_after == "no goals" and t.state_before.startswith("case h.a\nA : Type u_1")
    assert [p.full_name for p in t.premises] == [
        "Algebra.algebraMap_intTrace_fractionRing",
        "Algebra.trace_localization",
    ]
    assert t.premises[1].def_path == "Mathlib/RingTheory/Localization/NormTrace.lean"
    assert t.premises[1].def_pos == (83, 9) and t.premises[1].def_end_pos == (83, 35)
    assert t.annotated_tactic[0].count("<a>") == len(t.premises) == 2
    # round trip: what we write is what LeanDojo wrote
    assert r.traced_tactics[0].to_json() == ex["traced_tactics_last"]


def test_leandojo_partial_demo_record(fixtures):
    demo = fixtures["dojo_demo_transcript"]["traced_theorem"]
    r = theorem_from_leandojo(demo)
    assert r.start == (69, 1) and r.end == (72, 7) and r.url == ""
    assert [t.tactic for t in r.traced_tactics] == ["ext", "simp"]
    assert r.traced_tactics[0].annotated_tactic == ("ext", ())  # no annotation in the source
    assert r.traced_tactics[0].state_after == r.traced_tactics[1].state_before


def test_leandojo_corpus_lines(fixtures):
    pi = corpus_file_from_leandojo(fixtures["premises_Mathlib_Algebra_BigOperators_Pi"] | {"imports": []})
    assert len(pi.premises) == 13 and pi.premises[0].full_name == "Pi.list_prod_apply"
    assert pi.premises[0].start == (22, 1) and pi.premises[0].end == (25, 38)
    assert pi.premises[0].kind == "commanddeclaration"
    star = corpus_file_from_leandojo(fixtures["benchmark4_excerpts"]["corpus_line_excerpt"])
    assert star.imports[2] == ".lake/packages/lean4/src/lean/Init.lean" and len(star.premises) == 1


def test_leandojo_load_benchmark_dir(bench_dir):
    b = load_benchmark(bench_dir)
    assert set(b.splits) == {"random", "novel_premises"}
    assert [r.full_name for r in b.splits["random"]["train"]] == ["Algebra.intTrace_eq_trace", "pi_eq_sum_univ"]
    assert b.metadata["from_repo"]["commit"] == "29dcec074de168ac2bf835a77ef68bbe069194c5"
    assert len(b.premises()) == 14
    # accessibility: same-file premises ending before the position, plus the imported file
    names = {p.full_name for p in b.corpus.accessible_premises("Mathlib/Algebra/BigOperators/Pi.lean", (69, 1))}
    assert "Prod.fst_star" in names and "Pi.list_prod_apply" in names
    assert "pi_eq_sum_univ" not in names
    assert Corpus(b.corpus.files.values()).topological_order().index("Mathlib/Algebra/Star/Prod.lean") == 0
    dd = b.dataset_dict("random")
    assert {k: len(v) for k, v in dd.items()} == {"train": 2, "val": 0, "test": 0}
    row = dd["train"][0]
    assert row["backend"] == "lean" and row["traced_tactics"][0]["premises"][1]["def_pos"] == [83, 9]


def test_leandojo_missing_benchmark(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_benchmark(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError):
        load_benchmark(tmp_path)
