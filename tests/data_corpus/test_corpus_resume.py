"""`proofsmith corpus` end to end on three tiny local packages: killed mid-package, resumed, rerun;
the merged dataset, its three strategies and its card. Two of the packages carry held-out names
(`libcoq-reglang`: val, `libcoq-coqprime`: test) so the fixed novel_packages choice is exercised."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from proofsmith.dataset.card import DatasetCard, ExcludedPackage, PackageCard
from proofsmith.dataset.loading import load_dataset_dict, load_splits
from proofsmith.dataset.splits import ALL_SPLIT_STRATEGIES

A1 = """\
Require Import List.

Lemma a_one : forall n : nat, n + 0 = n.
Proof.
  intros n. induction n.
  - reflexivity.
  - simpl. rewrite IHn. reflexivity.
Qed.

Lemma a_two : forall p q : Prop, p -> q -> p /\\ q.
Proof. intros p q Hp Hq. split; assumption. Qed.

Lemma a_three : forall l : list nat, length (l ++ nil) = length l.
Proof. intros l. rewrite app_nil_r. reflexivity. Qed.
(* padding: the largest file is traced first *)
(* ........................................................................................ *)
(* ........................................................................................ *)
"""
A2 = """\
Require Import FakeA.A1.

Lemma a_four : forall m : nat, (m + 0) + 0 = m.
Proof. intros m. rewrite a_one. apply a_one. Qed.

Lemma a_five : True.
Proof. exact I. Qed.
"""
A3 = """\
Lemma a_six : 2 = 2.
Proof. reflexivity. Qed.

Lemma a_seven : 3 = 3.
Proof. reflexivity. Qed.
"""
REGLANG = "Lemma r_one : forall b : bool, negb (negb b) = b.\nProof. intros []; reflexivity. Qed.\n"
COQPRIME = """\
Lemma c_one : 1 + 1 = 2.
Proof. reflexivity. Qed.

Lemma c_two : forall x : nat, x = x.
Proof. intros x. reflexivity. Qed.
"""


def compiled_project(root: Path, logical: str, files: dict[str, str]) -> None:
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(text)
        res = subprocess.run(["coqc", "-q", "-R", ".", logical, name], cwd=root, capture_output=True, text=True)
        assert res.returncode == 0, res.stdout + res.stderr


def corpus(lst: Path, out: Path, **kw) -> subprocess.Popen:
    argv = [sys.executable, "-m", "proofsmith.cli.main", "corpus", "--package-list", str(lst), "--out", str(out)]
    argv += ["--workers", "1", "--quiet"]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def finish(lst: Path, out: Path) -> dict:
    p = corpus(lst, out)
    stdout, stderr = p.communicate(timeout=240)
    assert p.returncode == 0, stdout + stderr
    return json.loads(stdout[: stdout.index("\n}\n") + 2])


def reap_coq(marker: str, timeout: float = 20.0) -> None:
    """coqidetop runs in its own session: once its tracer is killed it sees EOF and exits; any
    that do not are ended here, by pid (they are this test's, named by the sources it wrote)."""
    deadline = time.monotonic() + timeout
    while True:
        left = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmd and "coqidetop" in cmd:
                left.append(int(pid))
        if not left:
            return
        if time.monotonic() > deadline:
            for pid in left:
                os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.2)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The corpus killed once a first file is traced, then resumed to the end; the state in between."""
    tmp = tmp_path_factory.mktemp("corpus")
    compiled_project(tmp / "pa", "FakeA", {"A1.v": A1, "A2.v": A2, "A3.v": A3})
    # A3 changes after compiling: `a_six` no longer replays (a recorded tactic_error, not a lost file)
    (tmp / "pa" / "A3.v").write_text(
        A3.replace("Proof. reflexivity. Qed.\n\nLemma a_seven", "Proof. exact (eq_refl 3). Qed.\n\nLemma a_seven", 1)
    )
    compiled_project(tmp / "pb", "FakeReg", {"R.v": REGLANG})
    compiled_project(tmp / "pc", "FakePrime", {"C.v": COQPRIME})
    lst = tmp / "list.toml"
    body = (
        '[packages.fake-a]\nversion = "1.0"\npath = "pa"\nroots = ["FakeA"]\nlicence = "MIT"\n\n'
        '[packages.libcoq-reglang]\nversion = "2.0"\npath = "pb"\nroots = ["FakeReg"]\nlicence = "CeCILL-B"\n\n'
        '[packages.libcoq-coqprime]\nversion = "3.0"\npath = "pc"\nroots = ["FakePrime"]\nlicence = "LGPL-2.1"\n\n'
        '[packages.fake-out]\nversion = "0"\ninclude = false\nreason = "left out for the test"\n'
    )
    lst.write_text(body)
    out = tmp / "out"
    traced = out / "packages" / "fake-a" / "traced" / "FakeA"
    p = corpus(lst, out, start_new_session=True)
    deadline = time.monotonic() + 120
    while not (traced.is_dir() and any(traced.glob("*.json"))):
        assert p.poll() is None, p.communicate()
        assert time.monotonic() < deadline, "no file traced in 120 s"
        time.sleep(0.02)
    os.killpg(p.pid, signal.SIGKILL)
    p.communicate()
    reap_coq(str(tmp))
    killed = {
        "traced": {f.name: f.stat().st_mtime_ns for f in traced.glob("*.json")},
        "package_done": (out / "packages" / "fake-a" / "package.json").exists(),
        "merged": (out / "random").exists() or (out / "DATASET.md").exists(),
    }
    stats = finish(lst, out)
    return {"tmp": tmp, "list": lst, "out": out, "killed": killed, "stats": stats, "traced": traced}


def test_killed_mid_package_leaves_finished_files_only(run):
    k = run["killed"]
    assert 1 <= len(k["traced"]) < 3  # killed with fake-a part done
    assert not k["package_done"] and not k["merged"]


def test_resume_keeps_the_finished_files_and_completes(run):
    out, traced = run["out"], run["traced"]
    for name, mtime in run["killed"]["traced"].items():
        assert (traced / name).stat().st_mtime_ns == mtime, f"{name} was traced again"
    pstats = json.loads((out / "packages" / "fake-a" / "trace_stats.json").read_text())
    assert pstats["files_resumed"] == len(run["killed"]["traced"]) and pstats["files"] == 3
    for pkg in ("fake-a", "libcoq-reglang", "libcoq-coqprime"):
        assert (out / "packages" / pkg / "package.json").is_file()
    s = run["stats"]
    assert s["packages"] == 3 and s["files"] == 5 and s["files_failed"] == 0
    assert s["traced_theorems"] == 9 and s["failures_by_reason"] == {"tactic_error": 1}
    assert s["packages_resumed"] == 0


def test_the_merged_dataset_has_three_strategies_with_packages(run):
    out = run["out"]
    names = {}
    for strategy in ALL_SPLIT_STRATEGIES:
        dd = load_dataset_dict(out, strategy)
        assert sum(len(dd[n]) for n in dd) == 9, strategy
        names[strategy] = {n: sorted(dd[n]["full_name"]) for n in dd}
    parts = load_splits(out, "novel_packages")
    assert {r.package for r in parts["train"]} == {"fake-a"}
    assert [r.full_name for r in parts["val"]] == ["FakeReg.R.r_one"]
    assert sorted(r.full_name for r in parts["test"]) == ["FakePrime.C.c_one", "FakePrime.C.c_two"]
    fails = [json.loads(l) for l in (out / "failures.jsonl").read_text().splitlines()]
    assert [(f["package"], f["theorem"], f["reason"]) for f in fails] == [("fake-a", "FakeA.A3.a_six", "tactic_error")]
    corpus_paths = {json.loads(l)["path"] for l in (out / "corpus.jsonl").read_text().splitlines()}
    assert {"FakeA/A1.v", "FakeA/A2.v", "FakeA/A3.v", "FakeReg/R.v", "FakePrime/C.v"} <= corpus_paths
    assert not (out / "merge_records.tmp").exists()
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["packages"] == {"fake-a": "1.0", "libcoq-reglang": "2.0", "libcoq-coqprime": "3.0"}


def test_the_card_describes_each_package(run):
    out = run["out"]
    card = json.loads((out / "dataset_card.json").read_text())
    rows = {p["name"]: p for p in card["packages"]}
    a = rows["fake-a"]
    assert (a["version"], a["licence"], a["files"], a["traced_theorems"]) == ("1.0", "MIT", 3, 6)
    assert a["theorems"] == 7 and a["failures_by_reason"] == {"tactic_error": 1}
    assert a["traced_tactics"] >= 9 and a["premises_defined"] == 7 and a["premises_used"] >= 2
    assert (rows["libcoq-reglang"]["novel_packages"], rows["libcoq-coqprime"]["novel_packages"]) == ("val", "test")
    assert rows["libcoq-coqprime"]["licence"] == "LGPL-2.1" and rows["libcoq-coqprime"]["traced_theorems"] == 2
    assert card["totals"]["traced_theorems"] == 9 and card["totals"]["failures"] == 1
    assert card["splits"]["novel_packages"] == {"train": 6, "val": 1, "test": 2}
    assert {"name": "fake-out", "version": "0", "reason": "left out for the test"} in card["excluded"]
    md = (out / "DATASET.md").read_text()
    assert "| fake-a | 1.0 | MIT | 3 | 6 |" in md
    assert "tactic_error 1" in md and "- fake-out 0: left out for the test" in md
    assert "| novel_packages | 6 | 1 | 2 |" in md


def test_a_rerun_skips_done_packages_and_rewrites_the_same_dataset(run):
    out, lst = run["out"], run["list"]
    before = {s: (out / s / "test.json").read_text() for s in ALL_SPLIT_STRATEGIES}
    # what a kill during the merge leaves: a scratch file, a half-written split, a split gone
    (out / "merge_records.tmp").write_bytes(b"garbage")
    (out / "random" / "train.json.tmp4242").write_text("[{")
    (out / "novel_premises" / "test.json").unlink()
    t0 = time.monotonic()
    stats = finish(lst, out)
    assert stats["packages_resumed"] == 3 and stats["traced_theorems"] == 9
    assert time.monotonic() - t0 < 60
    assert {s: (out / s / "test.json").read_text() for s in ALL_SPLIT_STRATEGIES} == before
    assert not (out / "merge_records.tmp").exists()


def test_a_new_version_traces_the_package_again(run):
    out, lst = run["out"], run["list"]
    old = (out / "packages" / "libcoq-reglang" / "traced" / "FakeReg" / "R.json").stat().st_mtime_ns
    lst.write_text(lst.read_text().replace('version = "2.0"', 'version = "2.1"'))
    stats = finish(lst, out)
    assert stats["packages_resumed"] == 2
    assert (out / "packages" / "libcoq-reglang" / "traced" / "FakeReg" / "R.json").stat().st_mtime_ns != old
    assert json.loads((out / "metadata.json").read_text())["packages"]["libcoq-reglang"] == "2.1"


def test_card_markdown_lists_versions_that_differ_from_the_list():
    row = PackageCard("libcoq-x", "2", "1", "GPL-2", ("GPL-2",), ("X",), files=3, traced_theorems=10)
    card = DatasetCard(
        "t", "now", "8.16.1", 1, [row], [ExcludedPackage("libcoq-y", "1", "no sources")], {}, {"val": [], "test": []}
    )
    md = card.markdown()
    assert "| libcoq-x | 2 (listed 1) | GPL-2 | 3 | 10 |" in md and "- libcoq-y 1: no sources" in md
    assert card.to_json()["totals"]["traced_theorems"] == 10
