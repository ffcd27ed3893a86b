"""Resuming an interrupted trace, and replay mismatches recorded as failures."""

import json
import subprocess

from proofsmith.envs.coq.declarations import split_file
from tests.tracing.conftest import trace, write_project


def test_trace_resume_after_interrupted_run(tmp_path):
    root = write_project(tmp_path / "proj")
    out = tmp_path / "out"
    first = trace(root, out)
    a, b = out / "traced/Proj/A.json", out / "traced/Proj/B.json"
    before = json.loads(b.read_text())
    a_mtime = a.stat().st_mtime_ns
    train_before = json.loads((out / "random/train.json").read_text())
    # what an interrupted run leaves: one file finished, one half-written temp file, no aggregate outputs
    b.unlink()
    (b.parent / "B.json.tmp999").write_text('{"truncated": ')
    for p in ["corpus.jsonl", "trace_stats.json", "random/train.json"]:
        (out / p).unlink()
    second = trace(root, out)
    assert second["files_resumed"] == 1 and first["files_resumed"] == 0
    assert a.stat().st_mtime_ns == a_mtime  # not re-traced
    after = json.loads(b.read_text())
    assert after["theorems"] == before["theorems"]
    assert json.loads((out / "random/train.json").read_text()) == train_before
    assert second["traced_theorems"] == first["traced_theorems"] == 5
    assert (out / "corpus.jsonl").is_file()


GOOD = """\
Lemma ok_first : 1 = 1.
Proof. reflexivity. Qed.

Lemma will_break : 2 = 2.
Proof. reflexivity. Qed.

Lemma uses_broken : 2 = 2.
Proof. exact will_break. Qed.
"""


def test_trace_replay_mismatch_is_a_recorded_failure(tmp_path):
    src = tmp_path / "mis"
    src.mkdir()
    (src / "M.v").write_text(GOOD)
    res = subprocess.run(["coqc", "-q", "-R", ".", "Mis", "M.v"], cwd=src, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    # the source changes after compiling: this proof no longer replays
    (src / "M.v").write_text(
        GOOD.replace("Proof. reflexivity. Qed.\n\nLemma uses", "Proof. exact (eq_refl 3). Qed.\n\nLemma uses")
    )
    out = tmp_path / "out"
    stats = trace(src, out, "Mis")
    assert stats["failures_by_reason"] == {"tactic_error": 1}
    fails = [json.loads(l) for l in (out / "failures.jsonl").read_text().splitlines()]
    assert [(f["theorem"], f["reason"], f["sentence"], f["pos"]) for f in fails] == [
        ("Mis.M.will_break", "tactic_error", "exact (eq_refl 3).", [5, 8])
    ]
    assert "3" in fails[0]["message"]
    names = {
        r["full_name"] for n in ("train", "val", "test") for r in json.loads((out / f"random/{n}.json").read_text())
    }
    # the failed theorem is not in the dataset; the later one that uses it still traces
    assert names == {"Mis.M.ok_first", "Mis.M.uses_broken"}
    assert stats["theorems"] == 3 and stats["traced_theorems"] == 2


def test_trace_ellipsis_terminator_splits():
    text = "Proof with auto.\n  split...\n  - destruct H; subst...\nQed.\n"
    got = [(s.text, text[s.start : s.end]) for s in split_file(text)]
    assert [g[0] for g in got] == ["Proof with auto.", "split...", "-", "destruct H; subst...", "Qed."]
    assert all(a == b for a, b in got)


def test_trace_declarations_with_primes_and_module_types():
    from proofsmith.envs.coq.declarations import declared_name, parse_declarations

    text = (
        "Lemma foo : True.\nProof. exact I. Qed.\nLemma foo' : True.\nProof. exact I. Qed.\n"
        "Module Type T.\nParameter hidden : nat.\nEnd T.\nModule M.\nDefinition bar' := 0.\nEnd M.\n"
    )
    assert declared_name("Lemma foo' : True.") == ("Lemma", "foo'")
    d = parse_declarations(text, "L")
    assert [p.full_name for p in d.premises] == ["L.foo", "L.foo'", "L.M.bar'"]
    assert d.premises[1].start == (3, 1) and d.premises[1].end == (4, 21)
    assert d.span_of("L.foo'") == ((3, 7), (3, 11))
