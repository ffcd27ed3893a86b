"""Retrieval inside search: how often the premise lookup that `prove`/`eval --premises` use puts a
gold premise of a traced step in its top k.

For the first N theorems of a split and their first steps (traced tactics that use a premise), the
lookup is asked what the search would ask it: the theorem (its file and position decide what is
accessible) and the state before the step. A hit at k: one of the step's gold premises (or, for a
premise of the theorem's own file, its file-relative name) among the top k. Unlike
`bench_retrieval.py`, which scores the retriever on the dataset's own accessibility masks, this
measures the lookup search really runs, accessibility rule and naming included.

Usage:
    python scripts/bench_premise_lookup.py --data runs/data/math --split random/val \\
        --premises runs/data/math/corpus.jsonl runs/retriever_math_index --out bench_results/bench_premise_lookup
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

KS = (1, 8, 32, 64)


def gold_rank(got: list[str], gold: list[str]) -> int | None:
    """Index of the first retrieved name that is a gold premise (full, or a suffix after a dot)."""
    for i, name in enumerate(got):
        if any(g == name or g.endswith("." + name) for g in gold):
            return i
    return None


def measure(data: str, split: str, premises: str, limit: int, steps: int) -> dict:
    from proofsmith.prover.benchmark import load_split
    from proofsmith.prover.premise_lookup import build_lookup

    lookup = build_lookup(premises, k=max(KS))
    assert lookup is not None
    strategy, _, part = split.partition("/")
    records = json.loads((Path(data) / strategy / f"{part}.json").read_text())[:limit]
    refs = {t.ref.name: t.ref for t in load_split(data, split, None, ())}
    hits = dict.fromkeys(KS, 0)
    queries, seconds = 0, 0.0
    for rec in records:
        ref = refs.get(rec["full_name"].rsplit(".", 1)[-1])
        if ref is None:
            continue
        for step in rec["traced_tactics"][:steps]:
            gold = [p["full_name"] for p in step["annotated_tactic"][1]]
            if not gold:
                continue
            t0 = time.perf_counter()
            got = [name for name, _ in lookup.retrieve(ref, step["state_before"], max(KS))]
            seconds += time.perf_counter() - t0
            queries += 1
            rank = gold_rank(got, gold)
            for k in KS:
                hits[k] += rank is not None and rank < k
    return {
        "premises": premises,
        "queries": queries,
        **{f"hit@{k}": round(hits[k] / max(1, queries), 3) for k in KS},
        "ms_per_query": round(1000 * seconds / max(1, queries), 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="random/val")
    ap.add_argument("--premises", nargs="+", required=True, help="corpus.jsonl / dataset dirs (BM25), index dirs")
    ap.add_argument("--limit", type=int, default=60, help="first N theorems of the split")
    ap.add_argument("--steps", type=int, default=3, help="first N steps of each theorem")
    ap.add_argument("--out", type=Path, default=Path("bench_results/bench_premise_lookup"))
    args = ap.parse_args()
    for p in [args.data, *args.premises]:
        if not Path(p).exists():
            ap.error(f"{p}: no such file or directory")
    rows = [measure(args.data, args.split, p, args.limit, args.steps) for p in args.premises]
    header = f"| premises | queries | {' | '.join(f'hit@{k}' for k in KS)} | ms/query |"
    lines = [header, "|" + "---|" * (len(KS) + 3)]
    for r in rows:
        cells = " | ".join(str(r[f"hit@{k}"]) for k in KS)
        lines.append(f"| {r['premises']} | {r['queries']} | {cells} | {r['ms_per_query']} |")
    table = "\n".join(lines)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"data": args.data, "split": args.split, "limit": args.limit, "steps": args.steps}
    args.out.with_suffix(".json").write_text(json.dumps({**meta, "rows": rows}, indent=1))
    args.out.with_suffix(".md").write_text(f"{json.dumps(meta)}\n\n{table}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
