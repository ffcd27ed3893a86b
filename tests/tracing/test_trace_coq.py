"""Tracing a small Coq project: exact states, premises, corpus and accessibility, stats."""

import json
from pathlib import Path

from proofsmith.dataset.corpus import Corpus
from proofsmith.dataset.loading import load_dataset_dict, load_splits


def records(out: Path) -> dict:
    recs = {}
    for name in ("train", "val", "test"):
        for d in json.loads((out / "random" / f"{name}.json").read_text()):
            recs[d["full_name"]] = d
    return recs


def test_trace_writes_layout_and_stats(traced_project):
    root, out, stats = traced_project
    for p in ["corpus.jsonl", "trace_stats.json", "metadata.json", "failures.jsonl", "traced/Proj/A.json"]:
        assert (out / p).is_file(), p
    for strategy in ("random", "novel_premises"):
        for name in ("train", "val", "test"):
            assert isinstance(json.loads((out / strategy / f"{name}.json").read_text()), list)
    on_disk = json.loads((out / "trace_stats.json").read_text())
    assert on_disk["files"] == 2 and on_disk["files_failed"] == 0
    assert on_disk["traced_theorems"] == 5 and on_disk["term_proofs"] == 1
    assert on_disk["traced_tactics"] == 3 + 3 + 4 + 3 + 2
    assert on_disk["failures"] == 0
    # the user's tree is untouched: it was compiled in a copy
    assert not list((root / "theories").glob("*.vo"))


def test_trace_exact_states_and_stdlib_premise(traced_project):
    _, out, _ = traced_project
    helper = records(out)["Proj.A.helper"]
    assert helper["file_path"] == "Proj/A.v" and helper["start"] == [3, 1] and helper["end"] == [6, 5]
    assert helper["backend"] == "coq"
    t = helper["traced_tactics"]
    assert [x["tactic"] for x in t] == ["intros n.", "rewrite Nat.add_0_r.", "reflexivity."]
    assert t[0]["state_before"] == "⊢ forall n : nat, n + 0 = n"
    assert t[0]["state_after"] == "n : nat\n⊢ n + 0 = n"
    assert t[1]["state_before"] == t[0]["state_after"]
    assert t[1]["state_after"] == "n : nat\n⊢ n = n"
    assert t[2]["state_after"] == "no goals"
    text, provs = t[1]["annotated_tactic"]
    assert text == "rewrite <a>Nat.add_0_r</a>."
    assert [(p["full_name"], p["def_path"]) for p in provs] == [
        ("Coq.Arith.PeanoNat.Nat.add_0_r", "Coq/Arith/PeanoNat.v")
    ]
    assert t[0]["annotated_tactic"] == ["intros n.", []]  # a bound name is not a premise


def test_trace_bullets(traced_project):
    _, out, _ = traced_project
    t = records(out)["Proj.A.split_both"]["traced_tactics"]
    assert [x["tactic"] for x in t] == ["intros p q Hp Hq.", "split.", "exact Hp.", "exact Hq."]
    ctx = "p, q : Prop\nHp : p\nHq : q"
    assert t[1]["state_after"] == f"{ctx}\n⊢ p\n\n{ctx}\n⊢ q"
    assert t[2]["state_before"] == f"{ctx}\n⊢ p"  # focused by the bullet
    assert t[3]["state_before"] == f"{ctx}\n⊢ q"
    assert t[3]["state_after"] == "no goals"
    assert all(p == [] for x in t for p in [x["annotated_tactic"][1]])  # `split` is a tactic, not a constant


def test_trace_same_file_and_imported_premises(traced_project):
    _, out, _ = traced_project
    recs = records(out)
    t = recs["Proj.A.uses_helper"]["traced_tactics"]
    assert t[1]["annotated_tactic"][0] == "rewrite <a>helper</a>."
    prov = t[1]["annotated_tactic"][1][0]
    # def_pos is where the name is written: line 3, column 7 of A.v
    assert prov == {"full_name": "Proj.A.helper", "def_path": "Proj/A.v", "def_pos": [3, 7], "def_end_pos": [3, 13]}
    stdlib = recs["Proj.B.le_from_stdlib"]["traced_tactics"][1]["annotated_tactic"][1][0]
    assert stdlib["full_name"] == "Coq.Init.Peano.le_S_n" and stdlib["def_path"] == "Coq/Init/Peano.v"
    cross = recs["Proj.B.later_one"]["traced_tactics"][1]["annotated_tactic"][1][0]
    assert cross["full_name"] == "Proj.A.uses_helper" and cross["def_path"] == "Proj/A.v"
    # ReProver's positive-premise lookup: the corpus premise of def_path whose span holds def_pos
    corpus = Corpus.read_jsonl(out / "corpus.jsonl")
    for prov in (stdlib, cross):
        spans = [p for p in corpus.files[prov["def_path"]].premises if p.start <= tuple(prov["def_pos"]) <= p.end]
        assert [p.full_name for p in spans] == [prov["full_name"]]


def test_trace_corpus_and_accessibility(traced_project):
    _, out, _ = traced_project
    corpus = Corpus.read_jsonl(out / "corpus.jsonl")
    a, b = corpus.files["Proj/A.v"], corpus.files["Proj/B.v"]
    assert [p.full_name for p in a.premises] == [
        "Proj.A.helper",
        "Proj.A.uses_helper",
        "Proj.A.split_both",
        "Proj.A.double",
        "Proj.A.term_proved",
    ]
    helper = a.premises[0]
    assert helper.code == "Lemma helper : forall n : nat, n + 0 = n." and helper.kind == "lemma"
    assert helper.start == (3, 1) and helper.end == (6, 5)
    assert "Proj/A.v" in b.imports and "Coq/Arith/Arith.v" in a.imports and "Coq/Init/Prelude.v" in a.imports
    order = corpus.topological_order()
    assert order.index("Proj/A.v") < order.index("Proj/B.v")
    assert all(order.index(i) < order.index(f) for f in order for i in corpus.files[f].imports if i in corpus.files)
    # accessible at uses_helper: helper (earlier, same file), not split_both (later), stdlib via imports
    names = {p.full_name for p in corpus.accessible_premises("Proj/A.v", (8, 1))}
    assert "Proj.A.helper" in names and "Proj.A.split_both" not in names
    assert "Coq.Init.Peano.le_S_n" in names  # through the Prelude, transitively
    # `Nat.add_0_r`, which A.v rewrites with, is included into `Nat` from a functor: a premise of PeanoNat.v
    # all the same (`envs.coq.module_fields`), after the file's own declarations
    assert "Coq.Arith.PeanoNat.Nat.add_0_r" in names
    peano = corpus.files["Coq/Arith/PeanoNat.v"].premises
    add_0_r = next(p for p in peano if p.full_name == "Coq.Arith.PeanoNat.Nat.add_0_r")
    assert len(peano) > 800 and add_0_r.start > max(p.end for p in peano if p.start != add_0_r.start)
    in_b = {p.full_name for p in corpus.accessible_premises("Proj/B.v", (10, 1))}
    assert {"Proj.A.term_proved", "Proj.B.le_from_stdlib"} <= in_b and "Proj.B.later_one" not in in_b


def test_trace_loads_as_datasets(traced_project):
    _, out, _ = traced_project
    for strategy in ("random", "novel_premises"):
        dd = load_dataset_dict(out, strategy)
        assert set(dd) == {"train", "val", "test"}
        assert sum(len(d) for d in dd.values()) == 5
    row = next(r for r in load_dataset_dict(out)["train"] if r["full_name"] == "Proj.A.helper")
    assert row["traced_tactics"][1]["premises"][0]["full_name"] == "Coq.Arith.PeanoNat.Nat.add_0_r"
    assert row["traced_tactics"][1]["annotated_tactic"] == "rewrite <a>Nat.add_0_r</a>."
    assert len(load_splits(out)["train"]) == len(load_dataset_dict(out)["train"])


def test_trace_names_bound_by_the_tactic_are_not_premises(tmp_path):
    from tests.tracing.conftest import trace

    src = tmp_path / "binders"
    src.mkdir()
    # `pred` and `S` are stdlib globals; here `pred` is introduced by the tactic itself
    (src / "D.v").write_text(
        "Lemma d_bind : forall pred : nat, S pred = 1 + pred.\nProof.\n  intros pred.\n  apply eq_refl.\nQed.\n"
    )
    trace(src, tmp_path / "out", "Bind")
    rec = json.loads((tmp_path / "out/random/train.json").read_text())[0]
    intro, app = rec["traced_tactics"]
    assert intro["annotated_tactic"] == ["intros pred.", []]
    assert app["annotated_tactic"][0] == "apply <a>eq_refl</a>."
    assert app["annotated_tactic"][1][0]["full_name"] == "Coq.Init.Logic.eq_refl"
