"""`proofsmith retrieve STATE`: the top-k premises for a proof state, with scores."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from proofsmith.cli.errors import UsageError, corpus_file, dense_index, existing_file, positive
from proofsmith.retrieval.dense import STRATEGIES


def _pos(text: str) -> tuple[int, int]:
    line, _, col = text.partition(":")
    return int(line), int(col or 1)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("state", help="the proof state (pretty-printed goals); '-' reads it from stdin")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--index", type=Path, help="an index directory from `proofsmith index` (dense retrieval)")
    src.add_argument(
        "--bm25", type=Path, metavar="DATA_OR_CORPUS", help="BM25 over a dataset directory or a corpus.jsonl"
    )
    p.add_argument("--corpus", type=Path, default=None, help="corpus.jsonl (default: the one the index records)")
    p.add_argument(
        "--file", default=None, help="corpus path of the file the theorem is in (restricts to accessible premises)"
    )
    p.add_argument(
        "--pos",
        type=_pos,
        default=None,
        metavar="LINE:COL",
        help="theorem position in --file (default: the end of the file)",
    )
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--strategy", choices=STRATEGIES, default="overfetch", help="how dense search filters")
    p.add_argument("--device", default=None)
    p.add_argument("--json", action="store_true", help="print JSON lines instead of a table")


def run(args: argparse.Namespace) -> int:
    from proofsmith.retrieval.bm25 import BM25Retriever
    from proofsmith.retrieval.corpus import PremiseCorpus
    from proofsmith.retrieval.pipeline import load_dense

    positive(args.k, "-k")
    if args.index is not None:
        dense_index(args.index, "--index", corpus_given=args.corpus is not None)
    if args.corpus is not None:
        existing_file(args.corpus, "--corpus", (".jsonl",))
    bm25 = corpus_file(args.bm25, "--bm25") if args.bm25 is not None else None
    state = sys.stdin.read() if args.state == "-" else args.state
    if not state.strip():
        raise UsageError("STATE: empty proof state")
    r: Any
    if args.index is not None:
        try:
            r = load_dense(args.index, args.corpus, device=args.device, strategy=args.strategy)
        except ValueError as e:  # another corpus, another encoder
            raise UsageError(f"--index {args.index}: {e}") from None
    else:
        assert bm25 is not None  # argparse: --index or --bm25
        r = BM25Retriever(PremiseCorpus.from_jsonl(bm25))
    if args.file is not None and not r.corpus.has_file(args.file):
        raise UsageError(f"--file {args.file!r}: not a file of the corpus")
    ids, scores = r.retrieve_ids(state, args.file, args.pos, args.k)
    for rank, (i, s) in enumerate(zip(ids, scores), 1):
        p = r.corpus.premises[int(i)]
        if args.json:
            print(
                json.dumps(
                    {
                        "rank": rank,
                        "score": float(s),
                        "full_name": p.full_name,
                        "path": r.corpus.file_of[int(i)],
                        "code": p.code,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            code = " ".join(p.code.split())
            print(f"{rank:3d}  {s:8.4f}  {p.full_name}  {code[:100]}")
    return 0
