"""`proofsmith mutate`: a traced dataset in, verified mutants out, as a dataset of their own.

Work is cut into chunks (consecutive theorems of one file). A worker process mutates a chunk's
theorems through one `CoqEnvironment`, batch-verifies the mutants that passed their live check
(`mutation.verify`), writes the verified ones into a copy of the file and traces that copy with
the project's tracer, so the mutants come out as ordinary records. Each chunk's result is saved
under `OUT/work/chunks/` as it ends: a rerun skips finished chunks (resume). The last step
deduplicates across chunks and writes the dataset, `mutants.jsonl` (provenance) and
`mutate_stats.json`.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import resource
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from proofsmith.dataset.corpus import Corpus
from proofsmith.dataset.files import write_json
from proofsmith.dataset.loading import write_dataset
from proofsmith.dataset.schema import CorpusFile, Premise, Provenance, TheoremRecord, TracedTactic
from proofsmith.dataset.splits import ALL_SPLIT_STRATEGIES
from proofsmith.envs.base import EnvError
from proofsmith.envs.coq.env import CoqConfig, CoqEnvironment
from proofsmith.envs.coq.file_tracer import FileJob, trace_file
from proofsmith.envs.coq.libraries import LibraryResolver
from proofsmith.envs.coq.source import list_theorems
from proofsmith.mutation.index import RuleIndex, TypeReader, rules_of
from proofsmith.mutation.mutator import KINDS, Counters, Mutant, MutateOptions, Target, TargetMutator
from proofsmith.mutation.sources import (
    TracedDataset,
    TracedFile,
    accessible_names,
    all_libraries,
    files_load_paths,
    library_of_path,
    premise_pool,
)
from proofsmith.mutation.verify import verify_mutants

MUTANT_ROOT = "Mutants"  # logical prefix of the mutant files
ALCHEMY = {
    "rewrite": {"targets": 110657, "verified": 2830817, "candidate_rate": 0.56},
    "apply": {"targets": 78871, "verified": 3495832, "candidate_rate": 0.37},
    "core_seconds_per_verified": 970,
}


@dataclass
class PipelineOptions:
    kinds: tuple[str, ...] = KINDS
    workers: int = 1
    chunk_size: int = 25
    max_targets: int | None = None
    target_filter: str | None = None  # regex on full names
    max_candidates: int = 400
    max_mutants: int = 200
    tactic_timeout: float = 3.0
    resume: bool = True
    progress: bool = True


def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


# --------------------------------------------------------------------------- shared state (fork)
@dataclass
class _Context:
    ds: TracedDataset
    pool: dict
    index: RuleIndex
    types: dict[str, str]
    out: Path
    opts: PipelineOptions


_CTX: _Context | None = None


@dataclass
class Chunk:
    id: str
    file_path: str
    targets: list[str]  # full names


def _chunk_path(out: Path, chunk: Chunk) -> Path:
    return out / "work" / "chunks" / f"{chunk.id}.json"


def _safe(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", path[:-2] if path.endswith(".v") else path)


def _run_chunk(chunk: Chunk) -> dict:
    try:
        return _mutate_chunk(chunk)
    except Exception as e:  # one broken chunk never stops the run; it is reported
        return {
            "id": chunk.id,
            "file_path": chunk.file_path,
            "error": f"{type(e).__name__}: {e}",
            "targets": len(chunk.targets),
            "counters": {},
            "mutants": [],
            "records": [],
            "premises": [],
            "target_keys": {},
            "cpu_seconds": 0.0,
        }


def _mutate_chunk(chunk: Chunk) -> dict:
    assert _CTX is not None
    ctx, t0, cpu0 = _CTX, time.monotonic(), _cpu()
    ds, opts = ctx.ds, ctx.opts
    tf = ds.files[chunk.file_path]
    text = Path(tf.source).read_text(encoding="utf-8")
    records = {r.full_name: r for r in ds.records if r.file_path == chunk.file_path}
    counters = Counters()
    taken = {n for _, n in list_theorems(text)}
    mopts = MutateOptions(
        kinds=opts.kinds,
        max_candidates=opts.max_candidates,
        max_mutants=opts.max_mutants,
        tactic_timeout=opts.tactic_timeout,
    )
    env = CoqEnvironment(CoqConfig(tactic_timeout=opts.tactic_timeout))
    mutants: list[Mutant] = []
    placements: dict[int, list[Mutant]] = defaultdict(list)
    mutator = TargetMutator(env, ctx.index, {}, mopts, taken, counters)
    load_paths = ds.load_paths_of(chunk.file_path)
    try:
        for name in chunk.targets:
            rec = records[name]
            target = Target(
                name,
                rec.file_path,
                tf.source,
                load_paths,
                (rec.start or (0, 0))[0],
                tf.library,
                ctx.types.get(name),
                rec.coq_flags or tf.coq_flags,
            )
            mutator.lemma_names = accessible_names(ds, ctx.pool, rec)
            try:
                ms = mutator.mutate(target)
            except EnvError:
                counters.targets_skipped += 1
                ms = []
            mutants += ms
            placements[target.start_line] += [m for m in ms if m.status == "live_ok"]
    finally:
        env.close()
    # the flags the targets started with (their traced ones: HoTT's -noinit...), for coqc and the audit too
    flags = mutator.coq_flags if mutator.coq_flags is not None else tf.coq_flags
    result = verify_mutants(text, placements, load_paths, coq_flags=flags) if any(placements.values()) else None
    if result is not None:
        for m in mutants:
            if m.name in result.verdicts:
                ok, why = result.verdicts[m.name]
                m.status, m.reason = ("verified", "") if ok else ("rejected", why)
    verified = {m.name: m for m in mutants if m.status == "verified"}
    recs_out: list[dict] = []
    premises: list[dict] = []
    if verified and result is not None and result.final_text:
        recs_out, premises = _trace_mutants(ctx, chunk, tf, result.final_text, verified, flags)
    return {
        "id": chunk.id,
        "file_path": chunk.file_path,
        "targets": len(chunk.targets),
        "counters": asdict(counters),
        "mutants": [m.to_json() for m in mutants],
        "records": recs_out,
        "premises": premises,
        "target_keys": mutator.target_keys,
        "compiles": result.compiles if result else 0,
        "cpu_seconds": round(_cpu() - cpu0, 3),
        "wall_seconds": round(time.monotonic() - t0, 3),
    }


def _trace_mutants(
    ctx: _Context,
    chunk: Chunk,
    tf: TracedFile,
    text: str,
    verified: dict[str, Mutant],
    coq_flags: tuple[str, ...] | None = None,
) -> tuple[list[dict], list[dict]]:
    """Trace the file of verified mutants (with the flags they were verified with: `coq_flags`, else the
    file's traced ones); keep the mutants' records, with premises named by the original library (the
    copy's names are the original's under another library name), each with its original's package and
    Coq flags."""
    lib = library_of_path(chunk.file_path)
    mut_lib = f"{MUTANT_ROOT}.{lib}_{chunk.id.rsplit('_', 1)[-1]}"
    root = ctx.out / "mutants"
    vpath = root / Path(*mut_lib.split(".")[1:]).with_suffix(".v")
    vpath.parent.mkdir(parents=True, exist_ok=True)
    vpath.write_text(text, encoding="utf-8")
    load_paths = ctx.ds.load_paths_of(chunk.file_path) + ((str(root), MUTANT_ROOT),)
    flags = tf.coq_flags if coq_flags is None else tuple(coq_flags)
    traced = trace_file(FileJob(str(vpath), mut_lib, load_paths, tf.url, tf.commit, coq_flags=flags))
    resolver = LibraryResolver(load_paths)
    prefix = mut_lib + "."

    def remap(p: Provenance) -> Provenance:
        if p.full_name.startswith(prefix) and p.full_name.rsplit(".", 1)[-1] not in verified:
            return resolver.provenance(lib + "." + p.full_name[len(prefix) :])
        return p

    # a mutant belongs to its original's package (`proofsmith corpus` data), so it splits with it, and starts and
    # verifies with its original's Coq flags (HoTT: -noinit -indices-matter)
    originals = {r.full_name: r for r in ctx.ds.records if r.file_path == chunk.file_path}
    file_package = next((r.package for r in originals.values()), tf.package)
    records = []
    for d in traced["theorems"]:
        r = TheoremRecord.from_json(d, "coq")
        if r.full_name.rsplit(".", 1)[-1] not in verified:
            continue
        m = verified[r.full_name.rsplit(".", 1)[-1]]
        original = originals.get(m.original)
        tactics = tuple(
            TracedTactic(
                t.tactic, (t.annotated_tactic[0], tuple(remap(p) for p in t.premises)), t.state_before, t.state_after
            )
            for t in r.traced_tactics
        )
        rec = TheoremRecord(
            r.url,
            r.commit,
            r.file_path,
            r.full_name,
            r.start,
            r.end,
            tactics,
            r.theorem_statement,
            "coq",
            original.package if original is not None else file_package,
            (original.coq_flags if original is not None else ()) or r.coq_flags,
        ).to_json()
        rec["mutation"] = {
            "original": m.original,
            "kind": m.kind,
            "rule": m.rule,
            "lemma": m.lemma,
            "location": m.location,
            "tactic": m.tactic,
        }
        records.append(rec)
    premises = [p for p in traced["corpus"]["premises"] if p["full_name"].rsplit(".", 1)[-1] in verified]
    return records, [
        {"path": traced["path"], "imports": [chunk.file_path] + list(traced["corpus"]["imports"]), "premises": premises}
    ]


# --------------------------------------------------------------------------- driver
def build_index(ds: TracedDataset, out: Path, resume: bool) -> tuple[dict, RuleIndex, dict[str, str], dict]:
    pool = premise_pool(ds)
    cache = out / "work" / "types.json"
    t0, cpu0 = time.monotonic(), _cpu()
    if resume and cache.is_file():
        saved = json.loads(cache.read_text(encoding="utf-8"))
        types, info = saved["types"], saved["info"]
    else:
        types, failed = {}, []
        for flags, names in _names_by_flags(ds, pool).items():
            # one coqidetop per set of Coq flags: HoTT's libraries load only under -noinit, the others only without
            files = ds.flag_groups().get(flags, [])
            with TypeReader(files_load_paths(files), all_libraries(ds, files), coq_flags=flags) as reader:
                types.update(reader.types(names))
                failed += reader.failed_requires
        info = {
            "lemmas": len(pool),
            "typed": sum(1 for n in pool if n in types),
            "failed_requires": failed,
            "cpu_seconds": round(_cpu() - cpu0, 3),
            "wall_seconds": round(time.monotonic() - t0, 3),
        }
        write_json(cache, {"types": types, "info": info})
    index = RuleIndex(r for n in pool if n in types for r in rules_of(n, types[n]))
    info = {**info, "rules": index.count}
    return pool, index, types, info


def _names_by_flags(ds: TracedDataset, pool: dict) -> dict[tuple[str, ...], list[str]]:
    """The lemmas of the pool and the traced theorems, by the Coq flags their file loads under (a plain
    trace: one group). A lemma of a library the dataset loads but did not trace goes with its package's
    flags when some traced file shares them, else with the first group."""
    groups = ds.flag_groups()
    first = next(iter(groups), ())
    out: dict[tuple[str, ...], dict[str, None]] = defaultdict(dict)
    for name, path in [(n, p) for n, (p, _) in pool.items()] + [(r.full_name, r.file_path) for r in ds.records]:
        flags = ds.flags_of_path(path)
        out[flags if flags in groups else first][name] = None
    return {flags: list(names) for flags, names in out.items()}


def plan_chunks(ds: TracedDataset, opts: PipelineOptions) -> list[Chunk]:
    recs = [r for r in ds.records if r.file_path in ds.files and r.traced_tactics]
    if opts.target_filter:
        recs = [r for r in recs if re.search(opts.target_filter, r.full_name)]
    if opts.max_targets is not None:
        recs = recs[: opts.max_targets]
    by_file: dict[str, list[str]] = defaultdict(list)
    for r in recs:
        by_file[r.file_path].append(r.full_name)
    chunks = []
    for path, names in by_file.items():
        for k in range(0, len(names), opts.chunk_size):
            chunks.append(Chunk(f"{_safe(path)}_{k // opts.chunk_size}", path, names[k : k + opts.chunk_size]))
    chunks.sort(key=lambda c: -len(c.targets))
    return chunks


def run_mutate(dataset: Path, out: Path, opts: PipelineOptions | None = None) -> dict:
    global _CTX
    opts = opts or PipelineOptions()
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    ds = TracedDataset.load(Path(dataset).resolve())
    pool, index, types, index_info = build_index(ds, out, opts.resume)
    chunks = plan_chunks(ds, opts)
    done = [c for c in chunks if opts.resume and _chunk_path(out, c).is_file()]
    todo = [c for c in chunks if c not in done]
    _CTX = _Context(ds, pool, index, types, out, opts)
    bar = tqdm(
        total=sum(len(c.targets) for c in chunks),
        initial=sum(len(c.targets) for c in done),
        unit="thm",
        desc="mutate",
        disable=not opts.progress,
        dynamic_ncols=True,
    )
    verified_so_far = 0
    try:
        results: Iterator[dict]
        if opts.workers <= 1:
            results = map(_run_chunk, todo)
            pool_ = None
        else:
            pool_ = multiprocessing.get_context("fork").Pool(opts.workers, maxtasksperchild=20)
            results = pool_.imap_unordered(_run_chunk, todo)
        for res in results:
            write_json(out / "work" / "chunks" / f"{res['id']}.json", res)
            verified_so_far += sum(1 for m in res["mutants"] if m["status"] == "verified")
            bar.update(res["targets"])
            bar.set_postfix(verified=verified_so_far)
        if pool_ is not None:
            pool_.close()
            pool_.join()
    finally:
        bar.close()
        _CTX = None
    stats = aggregate(ds, out, chunks, index_info, opts)
    stats["wall_seconds_this_run"] = round(time.monotonic() - t0, 2)
    stats["chunks_resumed"] = len(done)
    write_json(out / "mutate_stats.json", stats)
    return stats


def aggregate(ds: TracedDataset, out: Path, chunks: list[Chunk], index_info: dict, opts: PipelineOptions) -> dict:
    counters = Counters()
    target_keys: set[str] = set()
    results = []
    for c in chunks:
        chunk_file = _chunk_path(out, c)
        if chunk_file.is_file():
            results.append(json.loads(chunk_file.read_text(encoding="utf-8")))
    for res in results:
        target_keys |= set(res["target_keys"].values())
    seen: set[str] = set()
    records: list[TheoremRecord] = []
    provenance: list[dict] = []
    extra_files: list[CorpusFile] = []
    cross_dups = 0
    by_kind: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    cpu = float(index_info.get("cpu_seconds", 0.0))
    errors = []
    for res in results:
        counters.merge(res["counters"])
        cpu += res["cpu_seconds"]
        if res.get("error"):
            errors.append({"chunk": res["id"], "error": res["error"]})
        recs = {d["full_name"].rsplit(".", 1)[-1]: d for d in res["records"]}
        kept = set()
        for m in res["mutants"]:
            by_kind[m["kind"]]["mutants"] += 1
            by_kind[m["kind"]][m["status"]] += 1
            if m["status"] != "verified":
                continue
            if m["key"] in seen or m["key"] in target_keys:
                cross_dups += 1
                continue
            seen.add(m["key"])
            d = recs.get(m["name"])
            if d is None:
                continue  # verified, but the tracer did not record it (reported in stats)
            kept.add(m["name"])
            records.append(TheoremRecord.from_json(d, "coq"))
            provenance.append(
                {
                    "full_name": d["full_name"],
                    "file_path": d["file_path"],
                    **{k: m[k] for k in ("original", "kind", "rule", "lemma", "location", "tactic", "statement")},
                }
            )
        for f in res["premises"]:
            extra_files.append(
                CorpusFile(
                    f["path"],
                    tuple(f["imports"]),
                    tuple(Premise.from_json(p) for p in f["premises"] if p["full_name"].rsplit(".", 1)[-1] in kept),
                )
            )
    verified = len(records)
    corpus = Corpus(list(ds.corpus.files.values()) + extra_files)
    metadata = {
        "backend": "coq",
        "source_dataset": str(ds.root),
        "kind": "mutants",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    write_dataset(out, records, corpus, metadata)
    _add_provenance(out, {p["full_name"]: p for p in provenance})
    with open(out / "mutants.jsonl", "w", encoding="utf-8") as fh:
        for row in provenance:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    targets = counters.targets
    proposed = counters.candidates_proposed
    return {
        "targets": targets,
        "targets_skipped": counters.targets_skipped,
        "candidates_proposed": proposed,
        "invocable": counters.invocable,
        "mutants": counters.mutants,
        "duplicates": counters.duplicates + cross_dups,
        "live_checked": counters.live_ok,
        "live_failed": counters.live_failed,
        "verified": verified,
        "verified_untraced": sum(by_kind[k]["verified"] for k in by_kind) - verified - cross_dups,
        "cpu_seconds": round(cpu, 2),
        "cpu_seconds_per_verified": round(cpu / verified, 3) if verified else None,
        "amplification": round(verified / targets, 3) if targets else 0.0,
        "invocable_rate": round(counters.invocable / proposed, 4) if proposed else 0.0,
        "verified_per_candidate": round(verified / proposed, 4) if proposed else 0.0,
        "by_rule": {r: {"proposed": a, "invocable": b} for r, (a, b) in sorted(counters.by_rule.items())},
        "by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
        "index": index_info,
        "chunks": len(chunks),
        "chunk_errors": errors,
        "kinds": list(opts.kinds),
        "workers": opts.workers,
    }


def _add_provenance(out: Path, prov: dict[str, dict]) -> None:
    """Each split record also carries its `mutation` provenance (readers ignore unknown keys)."""
    for split in out.glob("*/*.json"):
        if split.parent.name not in ALL_SPLIT_STRATEGIES:
            continue
        data = json.loads(split.read_text(encoding="utf-8"))
        for d in data:
            p = prov.get(d["full_name"])
            if p:
                d["mutation"] = {k: p[k] for k in ("original", "kind", "rule", "lemma", "location", "tactic")}
        write_json(split, data)
