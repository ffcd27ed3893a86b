"""Time and memory to load a traced dataset (issue 16: "<= 60 s and <= 4 GiB" for the full corpus).

Each measurement runs in a fresh process (so one step's caches and memory do not flatter the next), and
reports its wall time and that process's peak resident memory (`ru_maxrss`):

- `splits:<strategy>`: `load_dataset_dict(DIR, strategy)`, the HF `DatasetDict` of train/val/test,
  for every split strategy the dataset has;
- `corpus`: `Corpus.read_jsonl(DIR/corpus.jsonl)`, the premise corpus with its import graph;
- `bm25_lookup`: the BM25 premise lookup that search uses (`--premises DIR`), built over the corpus.

Writes `<out>.json` and `<out>.md` and prints the table.

Usage:
    python scripts/bench_load.py --data runs/data/coq-debian --out bench_results/bench_load
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import time
from collections.abc import Callable
from pathlib import Path

from proofsmith.dataset.loading import strategies_on_disk


def _load_splits(data: str, strategy: str) -> dict:
    from proofsmith.dataset.loading import load_dataset_dict

    dd = load_dataset_dict(Path(data), strategy)
    return {"theorems": sum(len(dd[k]) for k in dd)}


def _load_corpus(data: str) -> dict:
    from proofsmith.dataset.corpus import Corpus

    corpus = Corpus.read_jsonl(Path(data) / "corpus.jsonl")
    return {"files": len(corpus.files), "premises": sum(len(f.premises) for f in corpus.files.values())}


def _build_bm25(data: str) -> dict:
    from proofsmith.prover.premise_lookup import build_lookup

    lookup = build_lookup(str(Path(data) / "corpus.jsonl"))
    assert lookup is not None
    return {"premises": len(lookup.corpus)}


def _child(fn: Callable[..., dict], args: tuple, queue: mp.Queue) -> None:
    t0 = time.perf_counter()
    info = fn(*args)
    seconds = time.perf_counter() - t0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    queue.put({"seconds": round(seconds, 2), "peak_rss_mib": round(peak_mib), **info})


def measure(fn: Callable[..., dict], *args) -> dict:
    """`fn(*args)` in a fresh process: its wall time, peak RSS and what it reports."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    out = queue.get()
    proc.join()
    if proc.exitcode != 0:
        raise RuntimeError(f"{fn.__name__} exited with {proc.exitcode}")
    return out


def run(data: Path) -> list[dict]:
    rows = []
    for strategy in strategies_on_disk(data):
        rows.append({"step": f"splits:{strategy}", **measure(_load_splits, str(data), strategy)})
    rows.append({"step": "corpus", **measure(_load_corpus, str(data))})
    rows.append({"step": "bm25_lookup", **measure(_build_bm25, str(data))})
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| step | wall (s) | peak RSS (MiB) | size |", "|---|---:|---:|---|"]
    for r in rows:
        size = ", ".join(f"{k} {v:,}" for k, v in r.items() if k not in ("step", "seconds", "peak_rss_mib"))
        lines.append(f"| {r['step']} | {r['seconds']} | {r['peak_rss_mib']:,} | {size} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="a traced dataset (proofsmith trace or corpus --out)")
    ap.add_argument("--out", type=Path, default=Path("bench_results/bench_load"), help="writes OUT.json and OUT.md")
    args = ap.parse_args()
    if not (args.data / "corpus.jsonl").is_file() or not strategies_on_disk(args.data):
        print(f"error: --data {args.data} is not a traced dataset (no corpus.jsonl or split folders)")
        return 2
    rows = run(args.data)
    table = markdown(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"data": str(args.data), "machine": platform.platform(), "cpus": mp.cpu_count()}
    Path(f"{args.out}.json").write_text(json.dumps({**meta, "rows": rows}, indent=1))
    Path(f"{args.out}.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
