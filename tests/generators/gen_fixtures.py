"""A small synthetic traced dataset for the generator/training tests."""

from __future__ import annotations

from proofsmith.dataset.corpus import Corpus
from proofsmith.dataset.schema import CorpusFile, Premise, Provenance, TheoremRecord, TracedTactic

NAMES = ["n", "m", "k", "x", "y", "a", "b", "p"]


# Premises named by the synthetic tactics (so the novel_premises split has val/test theorems).
USES = {"Nat.add_0_r": "Nat.add_0_r", "lia": "Nat.mul_1_r"}


def _step(state: str, tactic: str) -> TracedTactic:
    provs = tuple(Provenance(name, "Coq/Arith/PeanoNat.v", (1, 1)) for key, name in USES.items() if key in tactic)
    return TracedTactic(tactic, (tactic, provs), state, "")


def synthetic_theorems() -> list[TheoremRecord]:
    """Theorems whose states determine their tactics, so a model can learn them in a few steps."""
    recs = []
    for i, v in enumerate(NAMES):
        w = NAMES[(i + 1) % len(NAMES)]
        steps = [
            _step(f"⊢ forall {v} : nat, {v} + 0 = {v}", f"intros {v}."),
            _step(f"{v} : nat\n⊢ {v} + 0 = {v}", "rewrite Nat.add_0_r."),
        ]
        recs.append(
            TheoremRecord(
                "",
                "",
                "Syn/A.v",
                f"Syn.A.add0_{v}",
                (i * 3 + 1, 1),
                (i * 3 + 3, 5),
                tuple(steps),
                f"Lemma add0_{v} : forall {v} : nat, {v} + 0 = {v}.",
            )
        )
        steps = [
            _step(f"{v}, {w} : nat\nH{v} : {v} = {w}\n⊢ {w} = {v}", f"symmetry; exact H{v}."),
        ]
        recs.append(
            TheoremRecord(
                "",
                "",
                "Syn/B.v",
                f"Syn.B.sym_{v}",
                (i * 3 + 1, 1),
                (i * 3 + 3, 5),
                tuple(steps),
                f"Lemma sym_{v} : forall {v} {w} : nat, {v} = {w} -> {w} = {v}.",
            )
        )
        steps = [_step(f"{v} : nat\n⊢ {v} * 1 = {v}", "lia.")]
        recs.append(
            TheoremRecord(
                "",
                "",
                "Syn/B.v",
                f"Syn.B.mul1_{v}",
                (40 + i * 3, 1),
                (42 + i * 3, 5),
                tuple(steps),
                f"Lemma mul1_{v} : forall {v} : nat, {v} * 1 = {v}.",
            )
        )
    return recs


def synthetic_corpus() -> Corpus:
    prem = Premise("Nat.add_0_r", "Lemma add_0_r : forall n : nat, n + 0 = n.", (1, 1), (1, 40), "Lemma")
    prem2 = Premise("Nat.mul_1_r", "Lemma mul_1_r : forall n : nat, n * 1 = n.", (2, 1), (2, 40), "Lemma")
    return Corpus(
        [
            CorpusFile("Coq/Arith/PeanoNat.v", (), (prem, prem2)),
            CorpusFile("Syn/A.v", ("Coq/Arith/PeanoNat.v",), ()),
            CorpusFile("Syn/B.v", ("Coq/Arith/PeanoNat.v",), ()),
        ]
    )
