"""Options shared by the proving subcommands (prove, eval, demo): one name per time limit, defaults
from `envs/limits.py`, and the checks that run before any worker starts."""

from __future__ import annotations

import argparse
from pathlib import Path

from proofsmith.cli.errors import corpus_file, positive
from proofsmith.envs.limits import TACTIC_TIMEOUT, THEOREM_TIMEOUT, VERIFY_TIMEOUT
from proofsmith.prover.search import Frontier, SearchConfig


def add_search_limits(p: argparse.ArgumentParser, theorem_timeout: float = THEOREM_TIMEOUT) -> None:
    p.add_argument(
        "--theorem-timeout",
        "--timeout",
        dest="theorem_timeout",
        type=float,
        default=theorem_timeout,
        help="wall-clock budget for proving one theorem, s (default %(default)s)",
    )
    p.add_argument(
        "--tactic-timeout",
        type=float,
        default=TACTIC_TIMEOUT,
        help="time limit of one tactic, s (default %(default)s)",
    )
    p.add_argument(
        "--frontier",
        choices=[f.value for f in Frontier],
        default=SearchConfig.frontier.value,
        help="what best-first search orders: whole states, running all their candidates (node, ReProver), "
        "or (state, tactic) pairs by path + tactic score (tactic) (default %(default)s)",
    )


def add_verify_timeout(p: argparse.ArgumentParser, help_text: str = "time limit of one check") -> None:
    """`--verify-timeout` (old name `--timeout`) of the commands that re-check a whole file."""
    p.add_argument(
        "--verify-timeout",
        "--timeout",
        dest="verify_timeout",
        type=float,
        default=VERIFY_TIMEOUT,
        help=f"{help_text}, s (default %(default)s)",
    )


def add_premises(p: argparse.ArgumentParser) -> None:
    """`--premises`: retrieval inside search (prove, eval)."""
    p.add_argument(
        "--premises",
        type=Path,
        default=None,
        metavar="CORPUS",
        help="premise corpus (corpus.jsonl or a traced dataset dir): BM25 passes each state's top premises "
        "to the generator (the `actions` generator tries apply/rewrite with them)",
    )


def premises_corpus(path: Path | None) -> str | None:
    """The checked, absolute premise corpus of `--premises` (None when not given)."""
    return str(corpus_file(path, "--premises").resolve()) if path is not None else None


def search_config(args: argparse.Namespace, **fields) -> SearchConfig:
    """The search settings of the command line, checked (every number in range)."""
    positive(args.theorem_timeout, "--theorem-timeout")
    positive(args.tactic_timeout, "--tactic-timeout")
    cfg = SearchConfig(
        theorem_timeout=args.theorem_timeout,
        tactic_timeout=args.tactic_timeout,
        frontier=Frontier(getattr(args, "frontier", SearchConfig.frontier)),
        **fields,
    )
    positive(cfg.num_sampled_tactics, "--num-tactics")
    positive(cfg.max_expansions, "--max-expansions")
    return cfg
