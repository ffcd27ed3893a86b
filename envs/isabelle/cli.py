"""`proofsmith isabelle verify ...`: check a lemma's proof through the Isabelle server."""

from __future__ import annotations

import argparse
import shlex

from proofsmith.cli.errors import UsageError, existing_dir, existing_file, positive
from proofsmith.cli.options import add_verify_timeout
from proofsmith.envs.base import TheoremRef
from proofsmith.envs.isabelle.environment import IsabelleConfig, IsabelleEnvironment
from proofsmith.envs.isabelle.messages import ServerAddress
from proofsmith.envs.isabelle.server import ServerConfig
from proofsmith.envs.verify_report import verify_and_report


def add_subcommands(subparsers) -> None:
    p = subparsers.add_parser("isabelle", help="Isabelle backend (official Isabelle server)")
    sub = p.add_subparsers(dest="isabelle_command", required=True)
    v = sub.add_parser("verify", help="check a lemma with a proof, no sorry/oops/sledgehammer")
    v.add_argument("--file", required=True, help=".thy file holding the lemma")
    v.add_argument("--lemma", required=True, help="lemma name")
    v.add_argument("--step", action="append", default=[], help="an Isar proof step (repeat, in order)")
    v.add_argument("--session", default="HOL", help="logic session to start (default HOL)")
    v.add_argument("--dir", action="append", default=[], help="session directory with a ROOT file")
    v.add_argument("--isabelle", default="isabelle", help="the isabelle command (default: isabelle on PATH)")
    v.add_argument("--server-name", default="proofsmith")
    v.add_argument("--attach", help='attach to a running server: its line server "N" = HOST:PORT (password "P")')
    add_verify_timeout(v, "time limit of the check")
    v.set_defaults(func=_verify)


def _verify(args: argparse.Namespace) -> int:
    # Everything is checked before the server starts.
    existing_file(args.file, "--file", (".thy",))
    for d in args.dir:
        existing_dir(d, "--dir")
    positive(args.verify_timeout, "--verify-timeout")
    try:
        attach = ServerAddress.parse(args.attach) if args.attach else None
    except ValueError as e:
        raise UsageError(f"--attach {args.attach!r}: {e}") from None
    cfg = IsabelleConfig(
        server=ServerConfig(command=tuple(shlex.split(args.isabelle)), name=args.server_name),
        attach=attach,
        session=args.session,
        session_dirs=tuple(args.dir),
        timeout=args.verify_timeout,
    )
    theorem = TheoremRef.from_file(args.file, args.lemma, backend="isabelle")
    return verify_and_report(lambda: IsabelleEnvironment(cfg), theorem, args.step)
