"""Expert iteration: prove a training pool, learn from the proofs found, prove again.

Round r, in `OUT/round_r/`:

1. `search`: the pool's theorems not proved in an earlier round are searched with G_r (`run_job`,
   results in `results.jsonl`; a killed round resumes there).
2. `harvest`: every proof found is replayed step by step into traced records (`harvested/`, see
   `prover.harvest`).
3. `knn`: a k-NN index over the base data's train split (of the library split's strategy: `random`,
   `novel_premises` or `novel_packages`) plus every harvest so far (`knn/`).
4. `train` (optional): the LoRA generator continues on base + harvested data (`model/`, through
   `training.pipeline.run_training`).
5. `mutate` (optional): the proofs found are written into copies of their files, traced, and
   mutated (`mutation.pipeline.run_mutate`); a mutant joins the next pools only if the pipeline
   verified it (coqc + axiom audit): `admit_mutants` is that gate.

G_{r+1} = the round-0 spec + `knn:round_r/knn` (+ `hf:round_r/model` when trained). Every stage
after the search writes `<stage>.done` (with its seconds) only once it finished; a rerun skips
finished stages and rounds. `OUT/rounds.json` holds the per-round statistics and
`OUT/proved_vs_round.png` plots them.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from proofsmith.dataset.files import write_json
from proofsmith.dataset.schema import TheoremRecord
from proofsmith.envs.base import TheoremRef
from proofsmith.envs.limits import ITERATE_THEOREM_TIMEOUT, MUTATION_TACTIC_TIMEOUT
from proofsmith.prover.benchmark import BenchTheorem, benchmark_half, load_benchmark, load_split
from proofsmith.prover.harvest import harvest, harvested_records, proved_rows
from proofsmith.prover.results import read_results, write_job_config
from proofsmith.prover.search import SearchConfig

STAGES = ("search", "harvest", "knn", "train", "mutate")
HALVES = ("A", "B", "all")


@dataclass(frozen=True)
class IterateConfig:
    pool: Path  # a benchmark directory (or .v file)
    # a traced dataset: the train split of its `base_strategy` seeds the k-NN (and training)
    base_data: Path | None = None
    generator: str = "auto"  # G_0: auto, knn:DIR, hf:DIR, ensemble:A+B
    rounds: int = 2
    # Search settings of every round (theorem budget, tactic limit, candidates per expansion).
    search: SearchConfig = field(default_factory=lambda: SearchConfig(theorem_timeout=ITERATE_THEOREM_TIMEOUT))
    workers: int = 2
    half: str = "A"  # which half of the pool (`benchmark_half`): A | B | all
    # also prove this split of base_data: "random/train", "novel_premises/val", "novel_packages/train" (a corpus)...
    library_split: str | None = None
    library_root: Path | None = None  # where the library split's sources are (`load_split(root=)`)
    max_library: int | None = None
    train_model: bool = False
    train_steps: int = 200  # LoRA steps per round (short continual training)
    train_init: str = "scratch"  # the model round 0 trains from when G_0 has no hf: member
    train_size: str = "tiny"  # scratch size when training from scratch
    mutate: bool = False
    mutate_max_targets: int = 50  # proofs mutated per round
    mutate_tactic_timeout: float = MUTATION_TACTIC_TIMEOUT
    address: str | None = None

    @property
    def base_strategy(self) -> str:
        """The split strategy of `library_split` (`novel_packages/train` → `novel_packages`), `random` without
        one: the k-NN and training read its train part, so that a theorem held out by that strategy (a whole
        package, for `novel_packages`) never seeds them."""
        return library_strategy(self.library_split)


def library_strategy(split: str | None) -> str:
    """The strategy part of a `STRATEGY/PART` split name (`dataset/splits.py`); `random` for None."""
    from proofsmith.dataset.splits import ALL_SPLIT_STRATEGIES

    strategy = (split or "").partition("/")[0]
    return strategy if strategy in ALL_SPLIT_STRATEGIES else "random"


# --------------------------------------------------------------------------- pools
def pool_theorems(cfg: IterateConfig) -> list[BenchTheorem]:
    """The fixed pool: the chosen half of the benchmark, plus the library split if asked for."""
    thms = [t for t in load_benchmark(cfg.pool) if cfg.half == "all" or benchmark_half(t.ref.name) == cfg.half]
    if cfg.library_split and cfg.base_data is not None:
        lib = load_split(cfg.base_data, cfg.library_split, root=cfg.library_root)
        thms += lib[: cfg.max_library] if cfg.max_library is not None else lib
    return thms


def members(spec: str) -> list[str]:
    name, _, arg = spec.partition(":")
    return [p for p in arg.split("+") if p] if name == "ensemble" else [spec]


def round_generator(cfg: IterateConfig, out: Path, r: int) -> str:
    """G_r: the round-0 spec, plus the previous round's k-NN index (and model, when trained)."""
    if r == 0:
        return cfg.generator
    prev = out / f"round_{r - 1}"
    parts = members(cfg.generator)
    model = prev / "model"
    if cfg.train_model and (model / "generator.json").is_file():
        parts = [p for p in parts if not p.startswith("hf:")] + [f"hf:{model.resolve()}"]
    parts.append(f"knn:{(prev / 'knn').resolve()}")
    return "ensemble:" + "+".join(parts)


def spec_imports(spec: str) -> tuple[str, ...]:
    """What the search environment put before each theorem for `spec`: the `required_imports` of its
    members (`auto` and `actions` need the automation imports; `rerank` those of its inner spec), so
    a harvested proof replays in the context it was found in."""
    from proofsmith.prover.generators.automation import AUTOMATION_IMPORTS
    from proofsmith.prover.policy import split_rerank_arg

    out: list[str] = []
    for member in members(spec):
        name, _, arg = member.partition(":")
        if name in ("auto", "actions"):
            imports: tuple[str, ...] = AUTOMATION_IMPORTS
        elif name == "rerank":
            imports = spec_imports(split_rerank_arg(arg)[1])
        else:
            imports = ()
        out += [i for i in imports if i not in out]
    return tuple(out)


# --------------------------------------------------------------------------- stage markers
def _done(rdir: Path, stage: str) -> dict[str, Any] | None:
    f = rdir / f"{stage}.done"
    return json.loads(f.read_text()) if f.is_file() else None


def _mark(rdir: Path, stage: str, info: dict[str, Any]) -> dict[str, Any]:
    write_json(rdir / f"{stage}.done", info)
    return info


# --------------------------------------------------------------------------- mutation curriculum
def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def proved_source(thm: BenchTheorem, proof: Sequence[str], imports: Sequence[str] = ()) -> str:
    """The theorem's file up to its statement, with `proof` and `Qed.` after it (open blocks closed)."""
    from proofsmith.envs.coq.source import locate

    src = locate(thm.ref)
    closing = "".join(f"\nEnd {name}." for _, name in reversed(src.open_blocks))
    head = "".join(f"{i}\n" for i in imports)
    return head + src.text[: src.statement.end] + "\nProof.\n" + "\n".join(proof) + "\nQed.\n" + closing + "\n"


def admit_mutants(mutate_out: Path) -> list[dict[str, Any]]:
    """The gate: the mutants the pipeline *verified* (coqc accepted the proof, axioms audited), with
    where they live. A mutant that is rejected, failed its live check or was not traced is left out."""
    from proofsmith.dataset.loading import load_splits

    mutate_out = Path(mutate_out)
    verified: dict[str, dict[str, Any]] = {}
    for chunk in sorted((mutate_out / "work" / "chunks").glob("*.json")):
        for m in json.loads(chunk.read_text(encoding="utf-8")).get("mutants", []):
            if m.get("status") == "verified":
                verified[m["name"]] = m
    traced = {r.full_name.rsplit(".", 1)[-1] for recs in load_splits(mutate_out).values() for r in recs}
    files: dict[str, Path] = {}
    from proofsmith.envs.coq.source import list_theorems

    root = mutate_out / "mutants"
    for v in sorted(root.rglob("*.v")) if root.is_dir() else []:
        for _, name in list_theorems(v.read_text(encoding="utf-8")):
            files.setdefault(name, v.resolve())
    info = (
        json.loads((mutate_out / "load_paths.json").read_text()) if (mutate_out / "load_paths.json").is_file() else []
    )
    load_paths = [list(lp) for lp in info] + [[str(root.resolve()), "Mutants"]]
    out = []
    for name, m in verified.items():
        if name in traced and name in files:
            out.append(
                {
                    "name": name,
                    "file": str(files[name]),
                    "load_paths": load_paths,
                    "original": m["original"],
                    "kind": m["kind"],
                    "statement": m["statement"],
                }
            )
    return out


def mutant_theorems(admitted: Iterable[dict[str, Any]]) -> list[BenchTheorem]:
    return [
        BenchTheorem(
            TheoremRef.from_file(a["file"], a["name"], load_paths=tuple(tuple(lp) for lp in a["load_paths"])),
            f"verified mutant of {a['original']}",
        )
        for a in admitted
    ]


def mutate_proofs(
    found: Sequence[tuple[BenchTheorem, Sequence[str]]],
    out: Path,
    imports: Sequence[str] = (),
    max_targets: int | None = 50,
    tactic_timeout: float = 3.0,
) -> dict[str, Any]:
    """Write each proved theorem's file with its proof, trace the copies, mutate the proofs; returns
    stats with `admitted` (what `admit_mutants` let through, also in `OUT/admitted.json`)."""
    from proofsmith.envs.coq.build import SourceTree
    from proofsmith.envs.coq.trace import TraceOptions, trace_sources
    from proofsmith.mutation.pipeline import PipelineOptions, run_mutate
    from proofsmith.mutation.sources import TracedDataset

    out = Path(out).resolve()
    src = out / "src"
    src.mkdir(parents=True, exist_ok=True)
    targets = []
    for i, (thm, proof) in enumerate(found[:max_targets] if max_targets is not None else found):
        if thm.ref.load_paths:  # a mutant (or a library theorem) is not mutated again
            continue
        stem = f"H{i}_{_safe(thm.ref.name)}"
        (src / f"{stem}.v").write_text(proved_source(thm, proof, imports), encoding="utf-8")
        targets.append(f"Harvest.{stem}.{thm.ref.name}")
    stats: dict[str, Any] = {"targets": len(targets), "verified": 0, "admitted": []}
    if not targets:
        write_json(out / "admitted.json", [])
        return stats
    traced = out / "traced"
    trace_sources(
        [SourceTree(src, ((str(src), "Harvest"),))], traced, TraceOptions(workers=1, progress=False, num_eval=0)
    )
    write_json(out / "mutants" / "load_paths.json", [list(lp) for lp in TracedDataset.load(traced).load_paths])
    filt = "^(" + "|".join(re.escape(t) for t in targets) + ")$"
    mstats = run_mutate(
        traced,
        out / "mutants",
        PipelineOptions(workers=1, progress=False, target_filter=filt, tactic_timeout=tactic_timeout),
    )
    admitted = admit_mutants(out / "mutants")
    write_json(out / "admitted.json", admitted)
    stats.update(verified=mstats.get("verified", 0), admitted=admitted)
    return stats


# --------------------------------------------------------------------------- rounds
def _knn(base: Path | None, harvested: Sequence[Path], out: Path, strategy: str = "random") -> int:
    from proofsmith.dataset.loading import read_split, tactic_pairs
    from proofsmith.prover.generators.knn import KNNTacticGenerator

    recs: list[TheoremRecord] = []
    if base is not None and (Path(base) / strategy / "train.json").is_file():
        recs += read_split(Path(base) / strategy / "train.json")
    recs += harvested_records(harvested)
    knn = KNNTacticGenerator.from_pairs(tactic_pairs(recs))
    knn.save(out)
    return len(knn.states)


def _train(cfg: IterateConfig, out: Path, r: int, harvested: Sequence[Path]) -> dict[str, Any]:
    from proofsmith.dataset.corpus import Corpus
    from proofsmith.dataset.loading import read_split, write_dataset
    from proofsmith.training.pipeline import TrainConfig, run_training

    rdir = out / f"round_{r}"
    recs: list[TheoremRecord] = []
    base_train = Path(cfg.base_data) / cfg.base_strategy / "train.json" if cfg.base_data is not None else None
    if base_train is not None and base_train.is_file():
        recs += read_split(base_train)
    recs += harvested_records(harvested)
    data = rdir / "train_data"
    write_dataset(data, recs, Corpus([]), {"backend": "coq", "kind": "iterate"}, num_eval=0)
    init = cfg.train_init
    prev = out / f"round_{r - 1}" / "model" / "merged"
    hf = [m[3:] for m in members(cfg.generator) if m.startswith("hf:")]
    if r > 0 and (prev / "config.json").is_file():
        init = str(prev)
    elif hf and (Path(hf[0]) / "merged" / "config.json").is_file():
        init = str(Path(hf[0]) / "merged")
    scratch = init == "scratch"
    res = run_training(
        TrainConfig(
            data=data,
            out=rdir / "model",
            init=init,
            config=cfg.train_size,
            stage1_steps=max(1, cfg.train_steps // 4) if scratch else 0,
            stage2_steps=cfg.train_steps,
            merge=True,
            progress=False,
            retriever="none",
            num_premises=0,
            eval_every=max(1, cfg.train_steps),
        )
    )
    return {"init": init, "examples": sum(len(r.traced_tactics) for r in recs), "stage2": res.stage2}


def _round_stats(rdir: Path) -> dict[str, Any] | None:
    f = rdir / "stats.json"
    return json.loads(f.read_text()) if f.is_file() else None


def run_round(
    cfg: IterateConfig,
    out: Path,
    r: int,
    base_pool: Sequence[BenchTheorem],
    on_result: Callable[[dict[str, Any]], None] | None = None,
    on_stage: Callable[[int, str, int], None] | None = None,
) -> dict[str, Any]:
    """One round (resuming whatever of it is done); returns its statistics."""
    from proofsmith.prover.distributed import JobConfig, run_job

    rdir = out / f"round_{r}"
    rdir.mkdir(parents=True, exist_ok=True)
    earlier = [read_results(out / f"round_{k}" / "results.jsonl") for k in range(r)]
    proved_before = {str(row["key"]) for rows in earlier for row in proved_rows(rows)}
    mutants: list[BenchTheorem] = []
    for k in range(r):
        adm = out / f"round_{k}" / "mutate" / "admitted.json"
        if adm.is_file():
            mutants += mutant_theorems(json.loads(adm.read_text()))
    base_keys = {t.key for t in base_pool}
    pool = [t for t in list(base_pool) + mutants if t.key not in proved_before]
    spec = round_generator(cfg, out, r)
    (rdir / "generator.txt").write_text(spec + "\n")
    seconds: dict[str, float] = {}

    def stage(name: str) -> None:
        if on_stage:
            on_stage(r, name, len(pool))

    # 1. search (resumes through the results file)
    results = rdir / "results.jsonl"
    info = _done(rdir, "search")
    if info is None:
        stage("search")
        t0 = time.monotonic()
        job = JobConfig(generator=spec, workers=cfg.workers, search=cfg.search, address=cfg.address)
        write_job_config(results, job.results_config())
        run_job(pool, results, job, on_result=on_result)
        info = _mark(rdir, "search", {"seconds": round(time.monotonic() - t0, 2)})
    seconds["search"] = info["seconds"]
    by_key = {t.key: t for t in pool}
    rows = [row for row in read_results(results) if row.get("key") in by_key]
    found = proved_rows(rows)

    # 2. harvest
    info = _done(rdir, "harvest")
    if info is None:
        stage("harvest")
        hs = harvest(
            rows, by_key, rdir / "harvested", cfg.search.tactic_timeout * 6, additional_imports=spec_imports(spec)
        )
        info = _mark(rdir, "harvest", {"seconds": hs.seconds, **hs.to_json()})
    seconds["harvest"] = info["seconds"]
    hinfo = info
    harvested = [out / f"round_{k}" / "harvested" for k in range(r + 1)]

    # 3. k-NN on base + every harvest so far
    info = _done(rdir, "knn")
    if info is None:
        stage("knn")
        t0 = time.monotonic()
        n = _knn(cfg.base_data, harvested, rdir / "knn", cfg.base_strategy)
        info = _mark(rdir, "knn", {"seconds": round(time.monotonic() - t0, 2), "examples": n})
    seconds["knn"] = info["seconds"]
    knn_examples = info["examples"]

    # 4. optional continual LoRA training
    if cfg.train_model:
        info = _done(rdir, "train")
        if info is None:
            stage("train")
            t0 = time.monotonic()
            tinfo = _train(cfg, out, r, harvested)
            info = _mark(rdir, "train", {"seconds": round(time.monotonic() - t0, 2), **tinfo})
        seconds["train"] = info["seconds"]

    # 5. optional mutation of the proofs found; only verified mutants are admitted
    admitted = 0
    if cfg.mutate:
        info = _done(rdir, "mutate")
        if info is None:
            stage("mutate")
            t0 = time.monotonic()
            pairs = [(by_key[str(row["key"])], list(row["proof"])) for row in found]
            ms = mutate_proofs(
                pairs, rdir / "mutate", spec_imports(spec), cfg.mutate_max_targets, cfg.mutate_tactic_timeout
            )
            info = _mark(
                rdir,
                "mutate",
                {
                    "seconds": round(time.monotonic() - t0, 2),
                    "targets": ms["targets"],
                    "verified": ms["verified"],
                    "admitted": len(ms["admitted"]),
                },
            )
        seconds["mutate"] = info["seconds"]
        admitted = info["admitted"]

    proved_base_now = {str(row["key"]) for row in found} & base_keys
    stats = {
        "round": r,
        "generator": spec,
        "pool": len(pool),
        "pool_mutants": sum(t.key not in base_keys for t in pool),
        "proved": len(found),
        "new_proofs": len(proved_base_now),
        "proved_mutants": len(found) - len(proved_base_now),
        "proved_total": len((proved_before | proved_base_now) & base_keys),
        "base_pool": len(base_pool),
        "multi_step_proofs": hinfo["multi_step"],
        "harvested_theorems": hinfo["harvested"],
        "harvested_steps": hinfo["steps"],
        "harvest_skipped": len(hinfo["skipped"]),
        "knn_examples": knn_examples,
        "mutants_verified": admitted,
        "seconds": seconds,
    }
    write_json(rdir / "stats.json", stats)
    return stats


def plot_rounds(stats: Sequence[dict[str, Any]], png: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    xs = [s["round"] for s in stats]
    ax.plot(xs, [s["proved_total"] for s in stats], marker="o", label="proved (cumulative)")
    ax.plot(xs, [s["new_proofs"] for s in stats], marker="s", label="new proofs")
    if stats:
        ax.axhline(stats[0]["base_pool"], color="grey", linestyle=":", label="pool")
    ax.set_xlabel("round")
    ax.set_ylabel("theorems")
    ax.set_xticks(xs)
    ax.legend()
    ax.set_title("expert iteration")
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return png


def run_iterate(
    config: IterateConfig,
    out_dir: Path,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    on_stage: Callable[[int, str, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Run (or resume) every round; returns the per-round statistics (also in OUT/rounds.json)."""
    if config.half not in HALVES:
        raise ValueError(f"half must be one of {HALVES}, not {config.half!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_json(
        out / "iterate_config.json", {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()}
    )
    base_pool = pool_theorems(config)
    all_stats = []
    for r in range(config.rounds):
        stats = _round_stats(out / f"round_{r}")
        if stats is None:
            stats = run_round(config, out, r, base_pool, on_result, on_stage)
        else:
            stats = {**stats, "resumed": True}
        all_stats.append(stats)
        write_json(out / "rounds.json", all_stats)
        plot_rounds(all_stats, out / "proved_vs_round.png")
    return all_stats


__all__ = [
    "STAGES",
    "IterateConfig",
    "admit_mutants",
    "mutate_proofs",
    "plot_rounds",
    "pool_theorems",
    "round_generator",
    "run_iterate",
    "run_round",
]
