"""`proofsmith lean-verify`: re-check a Lean proof through the REPL (compile + axiom audit).

Wired in by `proofsmith_cli.main` through `add_subcommands(subparsers)`.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from proofsmith.envs.base import EnvError, TheoremRef
from proofsmith.envs.lean.environment import LeanEnvironment
from proofsmith.envs.lean.session import LeanReplConfig


def add_subcommands(subparsers) -> None:
    help_text = "verify a Lean 4 proof through the REPL (compile as one command + #print axioms audit)"
    p = subparsers.add_parser("lean-verify", help=help_text, description=help_text)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--file", type=Path, help=".lean file holding the theorem (with --name)")
    src.add_argument("--statement", help="self-contained statement, e.g. 'theorem t : 1 = 1 := by sorry'")
    p.add_argument("--name", help="theorem name (required with --file)")
    p.add_argument("--header", default="", help="imports etc. for --statement, e.g. 'import Mathlib'")
    p.add_argument("--tactic", action="append", default=[], help="one proof tactic; repeat in order")
    p.add_argument("--project", type=Path, help="Lean project directory (the REPL runs there under `lake env`)")
    p.add_argument("--repl", help="path to a built `repl` binary (default: `lake exe repl`)")
    p.add_argument(
        "--repl-command", help="full command to run the REPL instead, e.g. 'lake env ../repl/.lake/build/bin/repl'"
    )
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per REPL command")
    p.set_defaults(_run=run)


def run(args: argparse.Namespace) -> int:
    if args.file and not args.name:
        print("lean-verify: --file needs --name", file=sys.stderr)
        return 2
    if not args.tactic:
        print("lean-verify: give the proof with --tactic (repeat per tactic)", file=sys.stderr)
        return 2
    ref = (
        TheoremRef.from_file(args.file, args.name, backend="lean")
        if args.file
        else TheoremRef.from_statement(args.statement, name=args.name or "theorem", header=args.header, backend="lean")
    )
    cfg = LeanReplConfig(
        project_dir=args.project,
        repl=args.repl,
        start_timeout=args.timeout,
        argv=tuple(shlex.split(args.repl_command)) if args.repl_command else None,
    )
    try:
        with LeanEnvironment(cfg) as env:
            verdict = env.verify(ref, args.tactic)
    except EnvError as e:
        print(f"lean-verify: {e}", file=sys.stderr)
        return 2
    print(f"{'VERIFIED' if verdict else 'REJECTED'} {verdict.theorem} ({verdict.seconds:.2f}s)")
    print(f"axioms: {', '.join(verdict.axioms) or 'none'}")
    for reason in verdict.reasons:
        print(f"  - {reason}")
    return 0 if verdict else 1
