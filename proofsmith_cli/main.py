"""`proofsmith`: the one command-line entry point; each subcommand lives in its own module."""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

# (module, description); each module offers add_arguments(parser) and run(args) -> int
SUBCOMMANDS = {
    "check": ("proofsmith_cli.check", "verify every theorem of a .v file (coqc + axiom audit)"),
    "shell": ("proofsmith_cli.shell", "prove a theorem interactively: type tactics, undo, back N, qed"),
    "prove": ("proofsmith_cli.prove", "best-first proof search over a benchmark, distributed with Ray"),
    "eval": ("proofsmith_cli.eval", "prove a traced dataset split and print Pass@1"),
    "demo": ("proofsmith_cli.demo", "the main job: trace a stdlib slice, k-NN index, distributed search on examples/bench"),
    "trace": ("proofsmith_cli.trace", "trace Coq libraries into a LeanDojo-shaped dataset (states, premises, splits)"),
    "index": ("proofsmith_cli.index", "embed a premise corpus and build a FAISS index for dense retrieval"),
    "retrieve": ("proofsmith_cli.retrieve", "top-k accessible premises for a proof state (dense or BM25)"),
    "train-retriever": ("proofsmith_cli.train_retriever", "contrastive training of the dense premise encoder"),
    "eval-retriever": ("proofsmith_cli.eval_retriever", "R@1/R@10/MRR of BM25 and dense retrieval on the test splits"),
    "train": ("proofsmith_cli.train", "continual pretraining + LoRA fine-tuning of a tactic generator"),
    "eval-generator": ("proofsmith_cli.eval_generator", "tactic exact-match and execution success of generators"),
    "mutate": ("proofsmith_cli.mutate", "verified rewrite/apply mutants of traced theorems (Alchemy-style)"),
}
# Backends may contribute subcommands through `add_subcommands(subparsers)`.
PLUGIN_MODULES = ("envs.lean.cli", "envs.isabelle.cli", "envs.fstar.cli")


def build_parser(command: Optional[str] = None) -> argparse.ArgumentParser:
    """The full parser; only `command`'s module is imported (subcommands pull in torch, ray...)."""
    parser = argparse.ArgumentParser(prog="proofsmith", description="Machine-learning theorem proving toolkit.")
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


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command)
    args = parser.parse_args(argv)
    runner = getattr(args, "_run", None) or getattr(args, "func", None)  # backend plugins set `func`
    if runner is None:
        parser.print_help()
        return 2
    return int(runner(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
