"""`proofsmith fstar verify ...`: check candidate definitions for an F* target."""

from __future__ import annotations

import argparse
import shlex

from proofsmith.cli.errors import existing_dir, existing_file, positive
from proofsmith.cli.options import add_verify_timeout
from proofsmith.envs.base import TheoremRef
from proofsmith.envs.fstar.environment import FStarConfig, FStarEnvironment
from proofsmith.envs.verify_report import verify_and_report


def add_subcommands(subparsers) -> None:
    p = subparsers.add_parser("fstar", help="F* backend (fstar.exe --ide)")
    sub = p.add_subparsers(dest="fstar_command", required=True)
    v = sub.add_parser("verify", help="check candidate definitions of a target in an F* file")
    v.add_argument("--file", required=True, help=".fst file (its module name must match the file name)")
    v.add_argument("--name", required=True, help="target definition name")
    v.add_argument("--candidate", action="append", default=[], help="a top-level definition (repeat, in order)")
    v.add_argument("--checked", action="store_true", help="load the context with push-partial-checked-file")
    v.add_argument("--include", action="append", default=[], help="F* --include directory")
    v.add_argument("--solver-options", help='e.g. "--z3rlimit 20 --fuel 2 --ifuel 1"')
    v.add_argument("--fstar", default="fstar.exe", help="the F* command (default: fstar.exe on PATH)")
    add_verify_timeout(v, "time limit of one check")
    v.set_defaults(func=_verify)


def _verify(args: argparse.Namespace) -> int:
    # Everything is checked before F* starts.
    existing_file(args.file, "--file", (".fst", ".fsti"))
    for d in args.include:
        existing_dir(d, "--include")
    positive(args.verify_timeout, "--verify-timeout")
    cfg = FStarConfig(
        command=tuple(shlex.split(args.fstar)),
        include_dirs=tuple(args.include),
        use_checked_file=args.checked,
        solver_options=args.solver_options,
        timeout=args.verify_timeout,
    )
    theorem = TheoremRef.from_file(args.file, args.name, backend="fstar")
    return verify_and_report(lambda: FStarEnvironment(cfg), theorem, args.candidate)
