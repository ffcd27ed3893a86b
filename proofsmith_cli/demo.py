"""`proofsmith demo`: prove the bundled theorems with an automation-only tactic list.

Every proof found through the live environment is re-checked with `verify` (coqc + axiom audit)
before it is reported.
"""
from __future__ import annotations

import argparse
import time
from importlib import resources
from pathlib import Path

from envs.base import EnvCrashError, EnvTimeoutError, ProofFinished, TheoremRef
from envs.coq import CoqEnvironment
from envs.coq.source import list_theorems

AUTOMATION = ("intros; lia", "intros; nia", "intros; lra", "intros; nra", "firstorder",
              "intuition", "auto", "eauto", "exists 7; reflexivity")


def default_file() -> Path:
    return Path(str(resources.files("envs.coq") / "examples" / "demo.v"))


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--file", type=Path, default=None, help="a .v file (default: the bundled demo theorems)")
    p.add_argument("--tactics", nargs="+", default=list(AUTOMATION), help="tactics tried on each theorem, in order")
    p.add_argument("--timeout", type=float, default=5.0, help="per-tactic time limit (s)")


def run(args: argparse.Namespace) -> int:
    path = args.file or default_file()
    names = [n for _, n in list_theorems(path.read_text(encoding="utf-8"))]
    print(f"proving {len(names)} theorems from {path} with {len(args.tactics)} automation tactics")
    proved = 0
    t0 = time.monotonic()
    with CoqEnvironment(tactic_timeout=args.timeout) as env:
        for name in names:
            ref = TheoremRef.from_file(path, name)
            state = env.start(ref)
            verdict, used = None, None
            for tactic in args.tactics:
                try:
                    result = env.run_tactic(state, tactic)
                except (EnvCrashError, EnvTimeoutError):
                    continue
                if isinstance(result, ProofFinished):
                    verdict, used = env.verify(ref, result.proof), tactic
                    if verdict.verified:
                        break
            if verdict is not None and verdict.verified:
                proved += 1
                print(f"{name:24s} verified  by `{used}`  ({'; '.join(verdict.reasons)})", flush=True)
            elif verdict is not None:
                print(f"{name:24s} REJECTED  `{used}`: {'; '.join(verdict.reasons)}", flush=True)
            else:
                print(f"{name:24s} not proved by any automation tactic", flush=True)
    print(f"{proved}/{len(names)} proved and verified in {time.monotonic() - t0:.1f}s")
    return 0
