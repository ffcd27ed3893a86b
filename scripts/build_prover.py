"""Build the best prover this project has measured, on this machine (`make prover`).

1. trace the competition-mathematics libraries (Coq's Reals, ZArith, QArith, micromega, Arith and
   Coquelicot) into runs/data/math (resumable: a rerun skips finished files; ~11 min on 2 cores);
2. build the k-NN tactic index on their train split (runs/prover/knn);
3. optionally (`--iterate-rounds N`) run expert iteration on half A of the development benchmark,
   whose last k-NN (library steps + harvested proofs) then replaces the one of step 2;
4. write runs/prover/prover.json: the generator spec and premise corpus `proofsmith prove` uses
   when no --generator is given.

    python scripts/build_prover.py [--out runs/prover] [--data runs/data/math] [--iterate-rounds 0]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from proofsmith.envs.coq.build import discover
from proofsmith.envs.coq.libraries import coqlib
from proofsmith.envs.coq.trace import TraceOptions, trace_sources
from proofsmith.prover.built import write_built
from proofsmith.prover.generators.knn import from_spec as knn_from_spec

# (directory under `coqc -where`, logical path)
MATH_LIBRARIES = (
    ("theories/Reals", "Coq.Reals"),
    ("theories/ZArith", "Coq.ZArith"),
    ("theories/QArith", "Coq.QArith"),
    ("theories/micromega", "Coq.micromega"),
    ("theories/Arith", "Coq.Arith"),
    ("user-contrib/Coquelicot", "Coquelicot"),
)

# The best row of docs/benchmarks.md ("The prover learns"): the generator members, in order, and
# whether retrieval inside search (the premise corpus) is on; `knn` would stand for the built index.
# Measured with 2 workers (docs/benchmarks.md): miniF2F-rocq half B (first 60) at 60 s: auto 6/56,
# auto+actions with the tactic frontier 11/56, the same 11 with the k-NN and premises (16/56 once facts are
# stated at points and field_simplify_eq joined the action space); held-out
# stdlib+Coquelicot random/test (first 60) at 20 s: auto 12/57, auto+actions+knn with premises and the
# tactic frontier 20/57. So: the k-NN row, with retrieval on, on the tactic frontier.
BEST_MEMBERS: tuple[str, ...] = ("auto", "actions", "knn")
BEST_WITH_PREMISES = True
BEST_FRONTIER = "tactic"
BEST_NOTE = (
    "best measured: miniF2F-rocq half B 16/56 at 60 s (auto 6/56); held-out stdlib+Coquelicot random/test "
    "20/57 at 20 s (auto 12/57), first 240 at 60 s: 107/240 (44.6 %)"
)


def trace_math(data: Path, workers: int) -> Path:
    if (data / "random" / "train.json").is_file() and (data / "trace_stats.json").is_file():
        print(f"      traced libraries cached at {data}")
        return data
    root = Path(coqlib())
    trees = [discover(root / sub, logical) for sub, logical in MATH_LIBRARIES if (root / sub).is_dir()]
    trace_sources(trees, data, TraceOptions(workers=workers))
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("runs/prover"))
    ap.add_argument("--data", type=Path, default=Path("runs/data/math"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--iterate-rounds", type=int, default=0, help="expert-iteration rounds on half A (0: none)")
    ap.add_argument("--bench", type=Path, default=Path("examples/minif2f-rocq-valid"))
    args = ap.parse_args()

    t0 = time.monotonic()
    print(f"[1/4] tracing the competition-mathematics libraries into {args.data}")
    trace_math(args.data, args.workers)
    knn_dir = args.out / "knn"
    print(f"[2/4] k-NN tactic index -> {knn_dir}")
    if not (knn_dir / "knn.json").is_file():
        knn_from_spec(str(args.data)).save(knn_dir)
    if args.iterate_rounds > 0:
        from proofsmith.prover.iterate import IterateConfig, run_iterate
        from proofsmith.prover.search import Frontier, SearchConfig

        print(f"[3/4] expert iteration: {args.iterate_rounds} round(s) on half A of {args.bench}")
        spec = "ensemble:" + "+".join("knn:" + str(knn_dir.resolve()) if m == "knn" else m for m in BEST_MEMBERS)
        cfg = IterateConfig(
            pool=args.bench,
            base_data=args.data,
            generator=spec,
            rounds=args.iterate_rounds,
            search=SearchConfig(theorem_timeout=20.0, frontier=Frontier(BEST_FRONTIER)),
            workers=args.workers,
        )
        run_iterate(cfg, args.out / "iterate")
        last = max((args.out / "iterate").glob("round_*/knn/knn.json"), default=None)
        if last is not None:
            knn_dir = last.parent
    else:
        print("[3/4] expert iteration skipped (--iterate-rounds 0)")
    members = ["knn:" + str(knn_dir.resolve()) if m == "knn" else m for m in BEST_MEMBERS]
    generator = members[0] if len(members) == 1 else "ensemble:" + "+".join(members)
    premises = str(args.data.resolve()) if BEST_WITH_PREMISES else None
    path = write_built(args.out, generator, premises, BEST_NOTE, BEST_FRONTIER)
    print(
        f"[4/4] wrote {path}: --generator {generator} --frontier {BEST_FRONTIER}"
        + (f" --premises {premises}" if premises else "")
    )
    print(f"built in {time.monotonic() - t0:.0f} s; `proofsmith prove BENCH --out R.jsonl` now uses it")


if __name__ == "__main__":
    main()
