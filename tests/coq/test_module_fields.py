"""The number modules' functor lemmas as premises (`envs.coq.module_fields`), and a premise lookup
that keeps to the goal's number types and leaves out functor bodies. Real Coq where Coq is asked."""

from __future__ import annotations

from pathlib import Path

from proofsmith.dataset.corpus import Corpus
from proofsmith.dataset.schema import CorpusFile, Premise
from proofsmith.envs.base import ProofFinished, TheoremRef
from proofsmith.envs.coq import CoqEnvironment
from proofsmith.envs.coq.module_fields import add_module_fields, parse_fields, print_module
from proofsmith.prover.premise_lookup import BM25PremiseLookup, premise_sorts, state_sorts

# `Print Module Coq.ZArith.BinInt.Z.` as Coq 8.16 prints it (excerpt): a definition, a lemma on one
# line, a nested module listed by name, a lemma whose type continues on the next lines.
PRINTED = """Module
Z
:= Struct
     Definition add : Z -> Z -> Z.
     Parameter add_comm : forall n m : Z, (n + m)%Z = (m + n)%Z.
     Module Private_BootStrap
     Parameter mul_le_mono_nonneg_l :
       forall n m p : Z, (0 <= p)%Z -> (n <= m)%Z -> (p * n <= p * m)%Z.
   End
"""


def test_parse_fields_reads_lemmas_and_their_continued_types():
    assert parse_fields(PRINTED) == [
        ("add_comm", "forall n m : Z, (n + m)%Z = (m + n)%Z"),
        ("mul_le_mono_nonneg_l", "forall n m p : Z, (0 <= p)%Z -> (n <= m)%Z -> (p * n <= p * m)%Z"),
    ]


def _p(name: str, code: str, line: int, kind: str = "lemma") -> Premise:
    return Premise(name, code, (line, 1), (line, len(code)), kind)


def test_the_functor_lemmas_of_nat_join_its_file_after_its_last_declaration():
    printed = print_module("Coq.Arith.PeanoNat", "Nat")
    assert printed is not None and len(parse_fields(printed)) > 500  # 990 in Coq 8.16
    stated = _p("Coq.Arith.PeanoNat.Nat.add_comm", "Lemma add_comm : forall n m, n + m = m + n.", 40)
    other = CorpusFile("Coq/Init/Nat.v", (), (_p("Coq.Init.Nat.foo", "Lemma foo : True.", 1),))
    files = add_module_fields([other, CorpusFile("Coq/Arith/PeanoNat.v", ("Coq/Init/Nat.v",), (stated,))])
    assert files[0] == other
    added = {p.full_name: p for p in files[1].premises}
    assert len(added) > 500
    assert added["Coq.Arith.PeanoNat.Nat.add_comm"] is stated  # stated in the file: kept, not doubled
    mono = added["Coq.Arith.PeanoNat.Nat.mul_le_mono_nonneg_l"]
    assert mono.kind == "lemma" and mono.start == (41, 1) and "nat" in mono.code and mono.code.endswith(".")
    assert [p.full_name for p in files[1].premises].count("Coq.Arith.PeanoNat.Nat.add_comm") == 1


def test_a_functor_lemma_applies_by_its_instance_name():
    thm = TheoremRef.from_statement(
        "Theorem t : forall n m p : Z, 0 <= p -> n <= m -> p * n <= p * m.",
        "t",
        header="Require Import ZArith.\nOpen Scope Z_scope.",
    )
    with CoqEnvironment(tactic_timeout=10) as env:
        root = env.start(thm)
        out = env.run_tactic(root, "intros; apply Coq.ZArith.BinInt.Z.mul_le_mono_nonneg_l; assumption.")
        assert isinstance(out, ProofFinished), out


def test_premise_and_goal_sorts():
    z_field = premise_sorts(
        "Coq.ZArith.BinInt.Z.mul_le_mono_nonneg_l", "Lemma x : forall n m p : Z, (0 <= p)%Z -> True."
    )
    assert z_field == state_sorts("n, m, p : Z\n⊢ p * n <= p * m") != 0
    # a goal still binding its variables (the root state): the sorts of its binders
    assert state_sorts("⊢ forall p q r : Z, 0 <= p -> p / r <= p / q") == z_field
    assert (
        premise_sorts("Coq.Arith.PeanoNat.Nat.mul_le_mono_nonneg_l", "Lemma x : forall n m p : nat, True.") != z_field
    )
    untyped = premise_sorts("Coq.ZArith.Zorder.Zmult_ge_compat", "Lemma Zmult_ge_compat : forall n m p q, n >= p.")
    assert untyped == z_field  # a statement that names no type: its library's (ZArith: Z)
    both = premise_sorts(
        "Coq.ZArith.Znat.Nat2Z.inj_add", "Lemma inj_add n m : Z.of_nat (n + m) = Z.of_nat n + Z.of_nat m."
    )
    assert both & z_field and premise_sorts("Other.lib.x", "Lemma x : forall A : Prop, A -> A.") == 0


def test_the_lookup_keeps_to_the_goals_number_types_and_leaves_functor_bodies_out(tmp_path: Path):
    code = "forall n m p : {t}, (0 <= p)%{s} -> (n <= m)%{s} -> (p * n <= p * m)%{s}"
    files = [
        CorpusFile(
            "Coq/Numbers/NatInt/NZMulOrder.v",
            (),
            (
                _p(
                    "Coq.Numbers.NatInt.NZMulOrder.NZMulOrderProp.mul_le_mono_nonneg_l",
                    "Lemma mul_le_mono_nonneg_l : " + code.format(t="t", s="t") + ".",
                    1,
                ),
            ),
        ),
        CorpusFile(
            "Coq/Arith/PeanoNat.v",
            ("Coq/Numbers/NatInt/NZMulOrder.v",),
            (
                _p(
                    "Coq.Arith.PeanoNat.Nat.mul_le_mono_nonneg_l",
                    "Lemma mul_le_mono_nonneg_l : " + code.format(t="nat", s="nat") + ".",
                    1,
                ),
            ),
        ),
        CorpusFile(
            "Coq/ZArith/BinInt.v",
            ("Coq/Arith/PeanoNat.v",),
            (
                _p(
                    "Coq.ZArith.BinInt.Z.mul_le_mono_nonneg_l",
                    "Lemma mul_le_mono_nonneg_l : " + code.format(t="Z", s="Z") + ".",
                    1,
                ),
            ),
        ),
    ]
    unrelated = [f"Lemma u{i} : forall A B : Prop, A /\\ B -> B /\\ A." for i in range(6)]  # for BM25's IDF
    files.append(CorpusFile("Other/U.v", (), tuple(_p(f"Other.U.u{i}", c, i + 1) for i, c in enumerate(unrelated))))
    Corpus(files).write_jsonl(tmp_path / "corpus.jsonl")
    lookup = BM25PremiseLookup.from_path(tmp_path / "corpus.jsonl", k=8)
    thm = TheoremRef.from_statement("Theorem t : True.", "t", header="")  # no Require: every premise accessible
    z_state = "n, m, p : Z\nH : 0 <= p\n⊢ p * n <= p * m"
    assert lookup(thm, z_state) == ["Coq.ZArith.BinInt.Z.mul_le_mono_nonneg_l"]
    nat_state = "n, m, p : nat\nH : 0 <= p\n⊢ p * n <= p * m"
    assert lookup(thm, nat_state) == ["Coq.Arith.PeanoNat.Nat.mul_le_mono_nonneg_l"]
    assert lookup(thm, "⊢ 0 <= p -> p * n <= p * m")[:2] == [  # no typed variable: no filter
        "Coq.Arith.PeanoNat.Nat.mul_le_mono_nonneg_l",
        "Coq.ZArith.BinInt.Z.mul_le_mono_nonneg_l",
    ]
