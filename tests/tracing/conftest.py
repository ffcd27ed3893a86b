from pathlib import Path

import pytest

from proofsmith.envs.coq.build import discover
from proofsmith.envs.coq.trace import TraceOptions, trace_sources

A_V = """\
Require Import Arith.

Lemma helper : forall n : nat, n + 0 = n.
Proof.
  intros n. rewrite Nat.add_0_r. reflexivity.
Qed.

Lemma uses_helper : forall m : nat, (m + 0) + 0 = m.
Proof.
  intros m.
  rewrite helper.
  apply helper.
Qed.

Lemma split_both : forall p q : Prop, p -> q -> p /\\ q.
Proof.
  intros p q Hp Hq. split.
  - exact Hp.
  - exact Hq.
Qed.

Definition double (n : nat) := n + n.

Lemma term_proved : double 0 = 0.
Proof eq_refl.
"""

B_V = """\
Require Import Proj.A.

Lemma le_from_stdlib : forall a b : nat, S a <= S b -> a <= b.
Proof.
  intros a b H.
  apply le_S_n.
  exact H.
Qed.

Lemma later_one : forall k : nat, k + 0 + 0 = k.
Proof. intros k. apply uses_helper. Qed.
"""


def write_project(root: Path) -> Path:
    (root / "theories").mkdir(parents=True)
    (root / "_CoqProject").write_text("-R theories Proj\n")
    (root / "theories" / "A.v").write_text(A_V)
    (root / "theories" / "B.v").write_text(B_V)
    return root


def trace(src: Path, out: Path, logical: str | None = None, **kw) -> dict:
    opts = TraceOptions(workers=2, progress=False, **kw)
    return trace_sources([discover(src, logical)], out, opts)


@pytest.fixture(scope="session")
def traced_project(tmp_path_factory):
    """The two-file project above, traced once (compiled first: it ships no .vo)."""
    root = write_project(tmp_path_factory.mktemp("proj"))
    out = tmp_path_factory.mktemp("out")
    stats = trace(root, out)
    return root, out, stats
