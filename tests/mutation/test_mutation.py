"""Mutation on real Coq: rewrite and apply mutants with their exact statements, batch verification
with exact per-mutant verdicts, deduplication, the pipeline's resume and dataset output."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from proofsmith.dataset.loading import load_dataset_dict
from proofsmith.envs.coq.build import discover
from proofsmith.envs.coq.env import CoqConfig, CoqEnvironment
from proofsmith.envs.coq.trace import TraceOptions, trace_sources
from proofsmith.mutation.index import RuleIndex, TypeReader, rules_of
from proofsmith.mutation.mutator import Counters, MutateOptions, Target, TargetMutator
from proofsmith.mutation.pipeline import PipelineOptions, run_mutate
from proofsmith.mutation.sources import TracedDataset, accessible_names, all_libraries, premise_pool
from proofsmith.mutation.statement import normal_form, split_statement
from proofsmith.mutation.verify import verify_mutants

SOURCE = """Require Import Arith.
Axiom cheat : forall n : nat, n = 0.
Lemma swap_add : forall a b : nat, a + b = b + a.
Proof. intros a b. apply Nat.add_comm. Qed.
Lemma step : forall a b : nat, a <= b -> a <= S b.
Proof. intros a b H. apply le_S. exact H. Qed.
Lemma t_rw : forall x y : nat, x = y -> x + 0 = y.
Proof. intros x y H. rewrite Nat.add_0_r. exact H. Qed.
Lemma t_ap : forall p q : nat, S p <= S q -> p <= S q.
Proof. intros p q H. apply le_S_n in H. apply le_S. exact H. Qed.
"""


@pytest.fixture(scope="module")
def traced(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("mut")
    src = root / "src"
    src.mkdir()
    (src / "M.v").write_text(SOURCE)
    trace_sources([discover(src, "mt")], root / "ds", TraceOptions(workers=1, progress=False))
    return root / "ds"


@pytest.fixture(scope="module")
def world(traced):
    ds = TracedDataset.load(traced)
    pool = premise_pool(ds)
    with TypeReader(ds.load_paths, all_libraries(ds)) as reader:
        types = reader.types(list(pool) + [r.full_name for r in ds.records] + ["Coq.Arith.PeanoNat.Nat.add_comm"])
    return ds, types


def _mutate(world, target_name: str, lemmas: list[str], kinds=("rw", "apply")):
    ds, types = world
    rec = next(r for r in ds.records if r.full_name == target_name)
    tf = ds.files[rec.file_path]
    index = RuleIndex(r for n in lemmas for r in rules_of(n, types[n]))
    names = {n: v for n, v in accessible_names(ds, premise_pool(ds), rec).items() if n in lemmas}
    names.setdefault("Coq.Arith.PeanoNat.Nat.add_comm", "Coq.Arith.PeanoNat.Nat.add_comm")
    names = {n: v for n, v in names.items() if n in lemmas}
    counters = Counters()
    with CoqEnvironment(CoqConfig(tactic_timeout=5)) as env:
        m = TargetMutator(env, index, names, MutateOptions(kinds=kinds), set(), counters)
        target = Target(
            rec.full_name, rec.file_path, tf.source, ds.load_paths, rec.start[0], tf.library, types.get(rec.full_name)
        )
        return m.mutate(target), counters, rec, tf


def test_rewrite_mutant_has_expected_statement_and_verifies(world):
    ds, _ = world
    ms, c, rec, tf = _mutate(world, "mt.M.t_rw", ["mt.M.swap_add"], kinds=("rw",))
    goal = [m for m in ms if m.location == "goal" and m.rule == "rw"]
    assert [m.statement for m in goal] == ["Lemma t_rw_mut1 : forall (x : nat) (y : nat) (H : x = y), 0 + x = y."]
    assert goal[0].status == "live_ok" and goal[0].lemma == "mt.M.swap_add" and goal[0].kind == "rw"
    assert goal[0].proof[0] == "assert (Hmut_old : forall x y : nat, x = y -> x + 0 = y)."
    assert "exact H." in goal[0].proof  # the original proof is reused
    assert c.candidates_proposed >= 1 and c.invocable >= 1
    res = verify_mutants(Path(tf.source).read_text(), {rec.start[0]: goal}, ds.load_paths)
    assert res.verdicts[goal[0].name][0], res.verdicts
    assert "t_rw_mut1" in res.final_text


def test_apply_mutants_goal_and_hypothesis(world):
    ds, _ = world
    ms, _, rec, tf = _mutate(world, "mt.M.t_ap", ["mt.M.step"], kinds=("apply",))
    by_rule = {m.rule: m for m in ms}
    assert by_rule["fwd"].statement.endswith(" : forall (p : nat) (q : nat) (H : S p <= S q), p <= S (S q).")
    assert by_rule["bwd"].statement.endswith("forall (p : nat) (q : nat) (H : S p <= q), p <= S q.")
    assert all(m.status == "live_ok" for m in by_rule.values())
    res = verify_mutants(Path(tf.source).read_text(), {rec.start[0]: list(by_rule.values())}, ds.load_paths)
    assert all(res.verdicts[m.name][0] for m in by_rule.values()), res.verdicts


def test_wrong_bridge_and_axioms_are_caught_with_exact_verdicts(world):
    ds, _ = world
    ms, _, rec, tf = _mutate(world, "mt.M.t_ap", ["mt.M.step"], kinds=("apply",))
    good = [m for m in ms if m.status == "live_ok"]
    wrong = copy.deepcopy(next(m for m in good if m.rule == "fwd"))
    wrong.name = "t_ap_wrong"  # the forward bridge under a statement it does not prove
    wrong.statement = "Lemma t_ap_wrong : forall (p : nat) (q : nat) (H : S p <= S q), S (S q) <= p."
    cheat = copy.deepcopy(good[0])
    cheat.name = "t_ap_cheat"
    cheat.statement = "Lemma t_ap_cheat : forall p : nat, p = 0."
    cheat.proof = ["intros p.", "apply cheat."]
    res = verify_mutants(Path(tf.source).read_text(), {rec.start[0]: [*good, wrong, cheat]}, ds.load_paths)
    assert res.verdicts["t_ap_wrong"][0] is False and "coqc rejected" in res.verdicts["t_ap_wrong"][1]
    assert res.verdicts["t_ap_cheat"][0] is False and "cheat" in res.verdicts["t_ap_cheat"][1]
    assert all(res.verdicts[m.name][0] for m in good)
    assert res.compiles == 2  # one failed batch, one without the broken proof


def test_dedupe_alpha_equivalence_and_duplicate_mutants(world):
    assert normal_form("⊢ forall a b : nat, a + b = b") == normal_form("⊢ forall x y : nat, x + y = y")
    assert normal_form("⊢ forall a b : nat, a + b = b") != normal_form("⊢ forall a b : nat, a + b = a")
    assert split_statement("Lemma f (n : nat) : n = n.").binders == "(n : nat)"
    # swap_add and Nat.add_comm rewrite the goal to the same statement: the second is a duplicate
    ms, c, _, _ = _mutate(world, "mt.M.t_rw", ["mt.M.swap_add", "Coq.Arith.PeanoNat.Nat.add_comm"], kinds=("rw",))
    goal = [m for m in ms if m.location == "goal" and m.rule == "rw"]
    assert sorted(m.status for m in goal) == ["duplicate", "live_ok"]
    assert c.duplicates >= 1


def test_pipeline_resume_and_dataset(traced, tmp_path):
    out = tmp_path / "mut"
    opts = PipelineOptions(kinds=("rw",), target_filter=r"\.t_rw$", max_candidates=40, progress=False)
    stats = run_mutate(traced, out, opts)
    assert stats["targets"] == 1 and stats["verified"] >= 1
    assert stats["candidates_proposed"] >= stats["invocable"] >= stats["verified"]
    assert stats["cpu_seconds"] > 0 and stats["amplification"] == stats["verified"]
    saved = json.loads((out / "mutate_stats.json").read_text())
    assert saved["verified"] == stats["verified"]
    chunk = next((out / "work" / "chunks").glob("*.json"))
    before = chunk.stat().st_mtime_ns
    again = run_mutate(traced, out, opts)
    assert again["chunks_resumed"] == again["chunks"] == 1
    assert again["verified"] == stats["verified"] and chunk.stat().st_mtime_ns == before
    dd = load_dataset_dict(out, "random")
    rows = sum(len(dd[s]) for s in dd)
    assert rows == stats["verified"]
    prov = [json.loads(l) for l in (out / "mutants.jsonl").read_text().splitlines()]
    assert len(prov) == rows and all(p["original"] == "mt.M.t_rw" and p["kind"] == "rw" for p in prov)
    row = next(dd[s][0] for s in dd if len(dd[s]))
    assert row["traced_tactics"][0]["tactic"].startswith("assert (Hmut_old")
