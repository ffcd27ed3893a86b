"""`proofsmith`: the one command-line entry point; each subcommand lives in its own module.

Bad input (a missing file, an unknown generator, a results file of another job...) is raised as
`UsageError` by the subcommand's validators, before any work starts, and printed here as one line
`proofsmith: error: ...` with exit status 2. Other exceptions print one line too; `-v` shows their
traceback. `-v` / `-vv` also turn on INFO / DEBUG logging on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from proofsmith.cli.errors import USAGE_EXIT, UsageError

log = logging.getLogger("proofsmith.cli")

# (module, description); each module offers add_arguments(parser) and run(args) -> int
SUBCOMMANDS = {
    "check": ("proofsmith.cli.check", "verify every theorem of a .v file (coqc + axiom audit)"),
    "shell": ("proofsmith.cli.shell", "prove a theorem interactively: type tactics, undo, back N, qed"),
    "prove": ("proofsmith.cli.prove", "best-first proof search over a benchmark, distributed with Ray"),
    "eval": ("proofsmith.cli.eval", "prove a traced dataset split and print Pass@1"),
    "demo": (
        "proofsmith.cli.demo",
        "the main job: trace a stdlib slice, k-NN index, distributed search on examples/bench",
    ),
    "trace": ("proofsmith.cli.trace", "trace Coq libraries into a LeanDojo-shaped dataset (states, premises, splits)"),
    "corpus": (
        "proofsmith.cli.corpus",
        "every Coq library Debian ships, installed, traced (resumable) and merged into one dataset with a card",
    ),
    "index": ("proofsmith.cli.index", "embed a premise corpus and build a FAISS index for dense retrieval"),
    "retrieve": ("proofsmith.cli.retrieve", "top-k accessible premises for a proof state (dense or BM25)"),
    "train-retriever": ("proofsmith.cli.train_retriever", "contrastive training of the dense premise encoder"),
    "eval-retriever": ("proofsmith.cli.eval_retriever", "R@1/R@10/MRR of BM25 and dense retrieval on the test splits"),
    "train": ("proofsmith.cli.train", "continual pretraining + LoRA fine-tuning of a tactic generator"),
    "eval-generator": ("proofsmith.cli.eval_generator", "tactic exact-match and execution success of generators"),
    "mutate": ("proofsmith.cli.mutate", "verified rewrite/apply mutants of traced theorems (Alchemy-style)"),
    "iterate": ("proofsmith.cli.iterate", "expert iteration: prove a pool, harvest proofs, rebuild k-NN, repeat"),
    "serve": ("proofsmith.cli.serve", "serve a generator model over an OpenAI-compatible HTTP API (/v1/completions)"),
}
# Backends may contribute subcommands through `add_subcommands(subparsers)`.
PLUGIN_MODULES = ("proofsmith.envs.lean.cli", "proofsmith.envs.isabelle.cli", "proofsmith.envs.fstar.cli")


class Parser(argparse.ArgumentParser):
    """Argument errors become `UsageError` (one line, exit 2), like every other bad input."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser; only `command`'s module is imported (subcommands pull in torch, ray...)."""
    parser = Parser(prog="proofsmith", description="Machine-learning theorem proving toolkit.")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log progress details on stderr (-vv: debug); show tracebacks of unexpected errors",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            mod = importlib.import_module(module)
            mod.add_arguments(p)
            p.set_defaults(_run=mod.run)
    for module in PLUGIN_MODULES:
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        if hasattr(mod, "add_subcommands"):
            mod.add_subcommands(sub)
    return parser


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"proofsmith: {record.levelname.lower()}: {record.getMessage()}"


_handler: logging.Handler | None = None


def configure_logging(verbosity: int) -> None:
    """WARNING by default, INFO with -v, DEBUG with -vv; on (the current) stderr."""
    global _handler
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    _handler = logging.StreamHandler(sys.stderr)
    _handler.setFormatter(_Formatter())
    root.addHandler(_handler)
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    root.setLevel(level)
    logging.getLogger("proofsmith").setLevel(level)


def error_line(message: str) -> None:
    print(f"proofsmith: error: {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    verbose = 0
    try:
        parser = build_parser(command)
        args = parser.parse_args(argv)
        verbose = args.verbose
        configure_logging(verbose)
        runner = getattr(args, "_run", None) or getattr(args, "func", None)  # backend plugins set `func`
        if runner is None:
            parser.print_help()
            return USAGE_EXIT
        return int(runner(args) or 0)
    except UsageError as e:
        error_line(str(e))
        return USAGE_EXIT
    except Exception as e:
        if verbose:
            raise
        error_line(f"{type(e).__name__}: {' '.join(str(e).split())} (rerun with -v for the traceback)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
