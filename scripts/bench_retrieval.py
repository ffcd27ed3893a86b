"""Premise-retrieval benchmark on a traced dataset: index build time, query latency (p50/p90, with
accessibility filtering, for each filter strategy and index kind), and the R@1/R@10/MRR table for
BM25 and dense retrieval on the test part of every split strategy the dataset has (random and
novel_premises; novel_packages too on a `proofsmith corpus` dataset), or of those named by --splits.

    python scripts/bench_retrieval.py --data runs/data/stdlib --checkpoint runs/retriever_small
    python scripts/bench_retrieval.py --data runs/data/stdlib --train-minutes 12   # trains first
    python scripts/bench_retrieval.py --data runs/data/coq-debian --checkpoint runs/retriever_np --splits novel_packages

Writes bench_results/bench_retrieval.json (and .md)."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from proofsmith.cli.errors import UsageError, dataset_with_strategies
from proofsmith.dataset.loading import dataset_strategies, load_splits
from proofsmith.dataset.splits import ALL_SPLIT_STRATEGIES
from proofsmith.retrieval.bm25 import BM25Retriever
from proofsmith.retrieval.corpus import PremiseCorpus
from proofsmith.retrieval.dense import DenseRetriever
from proofsmith.retrieval.encoder import Encoder
from proofsmith.retrieval.evaluate import evaluate, markdown_table
from proofsmith.retrieval.faiss_index import PremiseIndex
from proofsmith.retrieval.pipeline import train_retriever
from proofsmith.retrieval.train import TrainConfig, tactic_queries


def pct(xs: list[float]) -> dict:
    if not xs:  # a test part without a query (a small dataset)
        return {"p50_ms": None, "p90_ms": None, "mean_ms": None, "n": 0}
    a = np.asarray(xs) * 1000
    return {
        "p50_ms": round(float(np.percentile(a, 50)), 3),
        "p90_ms": round(float(np.percentile(a, 90)), 3),
        "mean_ms": round(float(a.mean()), 3),
        "n": len(xs),
    }


def time_queries(fn, queries) -> list[float]:
    out = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        out.append(time.perf_counter() - t)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--checkpoint", type=Path, default=None, help="a train-retriever checkpoint (else train one)")
    ap.add_argument("--train-minutes", type=float, default=12.0)
    ap.add_argument("--train-out", type=Path, default=Path("runs/retriever_small"))
    ap.add_argument("--queries", type=int, default=300, help="queries timed per configuration")
    ap.add_argument("-k", type=int, default=10, help="k for the latency runs")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: a single query is latency-bound)")
    ap.add_argument("--out", type=Path, default=Path("bench_results/bench_retrieval.json"))
    ap.add_argument(
        "--splits",
        nargs="+",
        choices=ALL_SPLIT_STRATEGIES,
        default=None,
        help="split strategies whose test part is scored (default: every one the dataset has)",
    )
    args = ap.parse_args(argv)
    try:  # a strategy the dataset lacks (novel_packages of a `proofsmith trace` dataset): one line, exit 2
        splits = list(args.splits or dataset_strategies(args.data))
        dataset_with_strategies(args.data, "--data", splits, "--splits", need=("corpus.jsonl",))
    except UsageError as e:
        print(f"bench_retrieval: error: {e}", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    res: dict = {
        "data": str(args.data.resolve()),
        "machine": {"cpus": torch.get_num_threads(), "python": platform.python_version(), "torch": torch.__version__},
    }
    training = None
    if args.checkpoint is None:
        cfg = TrainConfig(
            max_minutes=args.train_minutes, epochs=100, batch_size=24, num_negatives=1, num_in_file_negatives=1
        )
        args.checkpoint, result = train_retriever(args.data, args.train_out, cfg=cfg)
    info = args.checkpoint / "training.json"
    if info.is_file():
        t = json.loads(info.read_text())
        training = {
            "steps": t["result"]["steps"],
            "seconds": round(t["result"]["seconds"], 1),
            "examples": t["result"]["examples"],
            "stopped_by": t["result"]["stopped_by"],
            "first_loss": t["result"]["losses"][0],
            "last_loss_mean20": float(np.mean(t["result"]["losses"][-20:])),
            "config": t["config"],
            "small_encoder_config": t.get("small_encoder_config"),
            "train_split": t.get("train_split"),
        }
    res["training"] = training

    t0 = time.perf_counter()
    corpus = PremiseCorpus.from_data_dir(args.data)
    res["corpus"] = {"premises": len(corpus), "files": len(corpus.ranges), "load_s": round(time.perf_counter() - t0, 2)}
    t0 = time.perf_counter()
    bm25 = BM25Retriever(corpus)
    res["build"] = {"bm25_s": round(time.perf_counter() - t0, 2)}
    encoder = Encoder(args.checkpoint, device="cpu")
    t0 = time.perf_counter()
    emb = encoder.embed(corpus.texts, batch_size=64)
    res["build"]["embed_premises_s"] = round(time.perf_counter() - t0, 2)
    indexes = {}
    for kind in ("flat", "hnsw"):
        t0 = time.perf_counter()
        indexes[kind] = PremiseIndex.build(emb, encoder.model_id, kind=kind)
        res["build"][f"faiss_{kind}_s"] = round(time.perf_counter() - t0, 3)
    print(f"built: {res['build']}", flush=True)

    # latency: states from the novel_premises test split, filtered at their theorem's position
    records = load_splits(args.data, "novel_premises")["test"]
    qs = tactic_queries(records, corpus)[: args.queries]
    lat: dict = {"k": args.k, "torch_threads": args.threads}
    lat["bm25"] = pct(time_queries(lambda q: bm25.retrieve_ids(q[0], q[1], q[2], args.k), qs))
    enc_times = time_queries(lambda q: encoder.embed([q[0]], queries=True), qs)
    lat["encode_query"] = pct(enc_times)
    embs = encoder.embed([q[0] for q in qs], queries=True)
    for kind, index in indexes.items():
        for strategy in ("overfetch", "subindex"):
            d = DenseRetriever(encoder, corpus, index, strategy=strategy)
            cold = time_queries(
                lambda j, d=d: d.retrieve_ids_from_embedding(embs[j], qs[j][1], qs[j][2], args.k), range(len(qs))
            )
            warm = time_queries(
                lambda j, d=d: d.retrieve_ids_from_embedding(embs[j], qs[j][1], qs[j][2], args.k), range(len(qs))
            )
            end_to_end = time_queries(lambda q, d=d: d.retrieve_ids(q[0], q[1], q[2], args.k), qs)
            lat[f"dense_{kind}_{strategy}"] = {
                "search_first_pass": pct(cold),
                "search_warm": pct(warm),
                "end_to_end": pct(end_to_end),
            }
            print(f"{kind}/{strategy}: warm search {pct(warm)}, end to end {pct(end_to_end)}", flush=True)
    res["latency"] = lat

    dense = DenseRetriever(encoder, corpus, indexes["flat"], strategy="overfetch")
    results: dict = {"bm25": {}, "dense": {}}
    for split in splits:
        test = load_splits(args.data, split)["test"]
        results["bm25"][split] = evaluate(bm25, corpus, test)
        results["dense"][split] = evaluate(dense, corpus, test)
    table = markdown_table(results)
    res["metrics"] = {n: {s: m.to_json() for s, m in per.items()} for n, per in results.items()}
    res["markdown"] = table
    res["splits"] = splits
    res["goals"] = {}
    if "novel_premises" in splits:
        nb, nd = results["bm25"]["novel_premises"], results["dense"]["novel_premises"]
        res["goals"] = {
            "dense_r10_over_bm25_novel": round(nd.r10 / nb.r10, 3) if nb.r10 else None,
            "dense_mrr_novel": round(nd.mrr, 3),
        }
    res["goals"]["p50_ms_end_to_end"] = lat["dense_flat_overfetch"]["end_to_end"]["p50_ms"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1))
    args.out.with_suffix(".md").write_text(table + "\n")
    print(table)
    print(json.dumps(res["goals"]))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
