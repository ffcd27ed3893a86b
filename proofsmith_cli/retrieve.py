"""`proofsmith retrieve STATE`: the top-k premises for a proof state, with scores."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

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

    state = sys.stdin.read() if args.state == "-" else args.state
    if args.index is not None:
        r = load_dense(args.index, args.corpus, device=args.device, strategy=args.strategy)
    else:
        src = args.bm25 / "corpus.jsonl" if args.bm25.is_dir() else args.bm25
        r = BM25Retriever(PremiseCorpus.from_jsonl(src))
    if args.file is not None and not r.corpus.has_file(args.file):
        print(f"error: {args.file!r} is not a file of the corpus")
        return 2
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
