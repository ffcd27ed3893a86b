"""Theorems of different files of an installed library never share a coqidetop (`envs.coq.env.session_key`):
`Edit_at` back to the start of the document does not undo everything a replayed library file left. Real
Coq and the installed UniMath throughout; the failure was found by `scripts/bench_start.py` over the corpus."""

from __future__ import annotations

from pathlib import Path

from proofsmith.envs.base import ProofFinished, TacticState, TheoremRef
from proofsmith.envs.coq import CoqEnvironment
from proofsmith.envs.coq.env import session_key
from proofsmith.envs.coq.libraries import coqlib
from proofsmith.envs.coq.source import locate

FOUNDATIONS = Path(coqlib()) / "user-contrib" / "UniMath" / "Foundations"


def test_a_library_file_started_after_another_one_that_requires_it_replays_as_in_a_fresh_process():
    """`PartD.v` requires the compiled `PartC`; replaying `PartC.v`'s own source afterwards in the same
    process failed on `assert (ee : e0 = x0) by apply (...)` ("Syntax error: [ltac_use_default]
    expected"), while a fresh process replays it."""
    part_d = TheoremRef.from_file(FOUNDATIONS / "PartD.v", "invmapweqcomp")
    part_c = TheoremRef.from_file(FOUNDATIONS / "PartC.v", "homotrecomplnat")
    with CoqEnvironment() as env:
        first = env.start(part_d)
        pid_d = env.session.process.pid
        second = env.start(part_c)
        assert isinstance(second, TacticState) and "recompl Y (w x)" in second.pp
        assert env.session.process.pid != pid_d
        # the first theorem's state is still usable: it is rebuilt in a process of its own file
        after = env.run_tactic(first, "intros.")
        assert isinstance(after, (TacticState, ProofFinished)), after


def test_files_outside_every_library_share_one_process(tmp_path):
    """A benchmark's files (no logical library) keep sharing a process, so their imports load once."""
    refs = []
    for name in ("a", "b"):
        f = tmp_path / f"{name}.v"
        f.write_text(f"Require Import Arith.\nTheorem t_{name} : 1 + 1 = 2.\nProof.\nreflexivity.\nQed.\n")
        refs.append(TheoremRef.from_file(f, f"t_{name}"))
    assert session_key(locate(refs[0])) == session_key(locate(refs[1]))
    with CoqEnvironment() as env:
        env.start(refs[0])
        pid = env.session.process.pid
        env.start(refs[1])
        assert env.session.process.pid == pid


def test_two_theorems_of_one_library_file_share_a_key_and_two_files_do_not():
    c1, c2 = (locate(TheoremRef.from_file(FOUNDATIONS / "PartC.v", n)) for n in ("isapropneg", "isapropdneg"))
    d = locate(TheoremRef.from_file(FOUNDATIONS / "PartD.v", "invmapweqcomp"))
    assert session_key(c1) == session_key(c2) != session_key(d)
