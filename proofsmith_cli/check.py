"""`proofsmith check FILE.v`: re-check every theorem of a file from scratch."""

from __future__ import annotations

import argparse
from pathlib import Path

from proofsmith.cli.errors import UsageError, existing_file, positive
from proofsmith.cli.options import add_verify_timeout
from proofsmith.envs.base import ProverNotInstalledError, TheoremRef
from proofsmith.envs.coq import CoqConfig, CoqEnvironment
from proofsmith.envs.coq.source import list_theorems, locate


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="a Coq .v file")
    p.add_argument(
        "--allow-axiom",
        action="append",
        default=[],
        metavar="FULL.NAME",
        help="also accept this axiom (full name); repeatable",
    )
    add_verify_timeout(p, "coqc re-check (+ axiom audit) time limit per theorem")


def run(args: argparse.Namespace) -> int:
    path: Path = existing_file(args.file, "FILE", (".v",))
    positive(args.verify_timeout, "--verify-timeout")
    theorems = list_theorems(path.read_text(encoding="utf-8", errors="replace"))
    if not theorems:
        raise UsageError(f"FILE {path}: no Theorem/Lemma/... in it")
    env = CoqEnvironment(CoqConfig(verify_timeout=args.verify_timeout, allowed_axioms=tuple(args.allow_axiom)))
    all_ok = True
    try:
        for _, name in theorems:
            ref = TheoremRef.from_file(path, name)
            proof, end = locate(ref).proof()
            if end is None:
                ok, reason = False, "no tactic proof ending in Qed/Defined"
            elif end in ("Admitted.", "Abort."):
                ok, reason = False, f"proof ends with {end[:-1]}"
            else:
                verdict = env.verify(ref, proof)
                ok, reason = verdict.verified, "; ".join(verdict.reasons)
            all_ok &= ok
            print(f"{name}\t{'verified' if ok else 'rejected'}\t{reason}", flush=True)
    except ProverNotInstalledError as e:
        print(f"error: {e}")
        return 2
    finally:
        env.close()
    return 0 if all_ok else 1
