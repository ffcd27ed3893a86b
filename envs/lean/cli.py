"""`proofsmith lean-verify`: re-check a Lean proof through the REPL (compile + axiom audit).

Wired in by `proofsmith_cli.main` through `add_subcommands(subparsers)`.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from proofsmith.cli.errors import UsageError, existing_dir, existing_file, positive
from proofsmith.envs.base import EnvError, TheoremRef
from proofsmith.envs.lean.environment import LeanEnvironment
from proofsmith.envs.lean.session import LeanReplConfig
from proofsmith.envs.limits import COMMAND_TIMEOUT


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
    p.add_argument(
        "--command-timeout",
        "--timeout",
        dest="command_timeout",
        type=float,
        default=COMMAND_TIMEOUT,
        help="time limit of one REPL command (the header's imports, the proof's check), s (default %(default)s)",
    )
    p.set_defaults(_run=run)


def run(args: argparse.Namespace) -> int:
    # Everything is checked before the REPL starts.
    if args.file:
        existing_file(args.file, "--file", (".lean",))
        if not args.name:
            raise UsageError("lean-verify: --file needs --name")
    if not args.tactic:
        raise UsageError("lean-verify: give the proof with --tactic (repeat per tactic)")
    if args.project is not None:
        existing_dir(args.project, "--project")
    if args.repl is not None:
        existing_file(args.repl, "--repl")
    positive(args.command_timeout, "--command-timeout")
    ref = (
        TheoremRef.from_file(args.file, args.name, backend="lean")
        if args.file
        else TheoremRef.from_statement(args.statement, name=args.name or "theorem", header=args.header, backend="lean")
    )
    cfg = LeanReplConfig(
        project_dir=args.project,
        repl=args.repl,
        start_timeout=args.command_timeout,
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
