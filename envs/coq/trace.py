"""Tracing Coq projects into the LeanDojo-shaped dataset: the batch driver.

`trace_sources` builds what needs building, traces every file in parallel worker processes
(`file_tracer`), resumes from the per-file outputs under `traced/`, adds premise-only corpus lines
for the libraries the files load, and writes the splits and `trace_stats.json`. What a file
declares is in `declarations`, library resolution in `libraries`, project discovery and the build
in `build`; dataset types and splits are backend-neutral and live in `proofsmith.dataset`.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import re
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from proofsmith.dataset.corpus import Corpus
from proofsmith.dataset.files import write_json
from proofsmith.dataset.loading import TRACED_DIR, write_dataset
from proofsmith.dataset.schema import CorpusFile, TheoremRecord
from proofsmith.dataset.splits import DEFAULT_SEED
from proofsmith.envs.coq.build import SourceTree, build, git_origin, needs_build
from proofsmith.envs.coq.declarations import corpus_file
from proofsmith.envs.coq.file_tracer import FileJob, trace_file
from proofsmith.envs.coq.libraries import LibraryResolver, is_default_load_path, library_path
from proofsmith.envs.coq.module_fields import add_module_fields


def _jobs(tree: SourceTree, call_timeout: float) -> list[FileJob]:
    url, commit = git_origin(tree.root)
    load_paths = tuple((d, l) for d, l in tree.mappings if not is_default_load_path(d, l))
    return [
        FileJob(path, lib, load_paths, url, commit, call_timeout, coq_flags=tree.coq_flags)
        for path, lib in tree.files()
    ]


def _run_job(job: FileJob) -> tuple[FileJob, dict | None, str]:
    try:
        return job, trace_file(job), ""
    except Exception as e:  # one broken file never stops the run; it is reported
        return job, None, f"{type(e).__name__}: {e}"


@dataclass
class TraceOptions:
    workers: int = max(1, os.cpu_count() or 1)
    resume: bool = True
    progress: bool = True
    call_timeout: float = 300.0
    seed: int = DEFAULT_SEED
    num_eval: int | None = None
    max_files: int | None = None  # trace only the first N files (by size, largest first): subsets
    file_filter: str | None = None  # regex on the library name
    write_dataset: bool = True  # False: per-file outputs, stats and failures only (`proofsmith corpus` merges)
    desc: str = "trace"  # the progress bar's label
    on_file: Callable[[], None] | None = None  # called after each file traced here (overall progress)


def _output_of(out: Path, job: FileJob) -> Path:
    return out / TRACED_DIR / (job.path[:-2] + ".json")


def trace_sources(trees: Sequence[SourceTree], out: Path, options: TraceOptions | None = None) -> dict:
    """Trace every file of `trees` into `out` and write the dataset; returns the stats."""
    opts = options or TraceOptions()
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    jobs: list[FileJob] = []
    for k, tree in enumerate(trees):
        if needs_build(tree):
            tree = build(tree, out / "build" / str(k))
        jobs += _jobs(tree, opts.call_timeout)
    if opts.file_filter:
        jobs = [j for j in jobs if re.search(opts.file_filter, j.library)]
    jobs.sort(key=lambda j: -os.path.getsize(j.source))  # longest first: better packing over workers
    if opts.max_files is not None:
        jobs = jobs[: opts.max_files]
    todo = [j for j in jobs if not (opts.resume and _output_of(out, j).is_file())]
    errors: list[dict] = []
    bar = tqdm(
        total=len(jobs),
        initial=len(jobs) - len(todo),
        unit="file",
        desc=opts.desc,
        disable=not opts.progress,
        dynamic_ncols=True,
    )
    done_theorems = 0
    with multiprocessing.get_context("fork").Pool(max(1, opts.workers), maxtasksperchild=50) as pool:
        for job, result, error in pool.imap_unordered(_run_job, todo):
            if result is None:
                errors.append({"file_path": job.path, "theorem": None, "reason": "file_error", "message": error})
            else:
                write_json(_output_of(out, job), result)
                done_theorems += len(result["theorems"])
            bar.update(1)
            bar.set_postfix(file=job.library[-30:], theorems=done_theorems)
            if opts.on_file is not None:
                opts.on_file()
    bar.close()
    stats = aggregate(out, jobs, errors, opts)
    stats["wall_seconds"] = round(time.monotonic() - t0, 2)
    stats["files_resumed"] = len(jobs) - len(todo)
    write_json(out / "trace_stats.json", stats)
    return stats


def external_corpus(
    libraries: set[str], known: set[str], resolver: LibraryResolver, noinit_roots: Sequence[str] = ()
) -> list[CorpusFile]:
    """Premise-only corpus lines for the libraries the traced files load but that were not traced,
    so that accessibility can follow imports transitively. Libraries under `noinit_roots` (compiled
    with `-noinit`: HoTT) do not import Coq's prelude, nor do Coq.Init's own."""
    out = []
    for lib in sorted(libraries - known):
        decls = resolver.declarations(lib)
        if decls is None:
            continue
        noinit = lib.startswith("Coq.Init.") or any(lib == r or lib.startswith(r + ".") for r in noinit_roots)
        imports = [] if noinit else [library_path("Coq.Init.Prelude")]
        for req in decls.requires:
            cands = sorted((l for l in libraries if l == req or l.endswith("." + req)), key=len)
            if cands:
                imports.append(library_path(cands[0]))
        out.append(corpus_file(library_path(lib), imports, decls))
    return out


def aggregate(out: Path, jobs: Sequence[FileJob], errors: list[dict], opts: TraceOptions) -> dict:
    theorems: list[TheoremRecord] = []
    files: list[CorpusFile] = []
    failures = list(errors)
    counts: Counter[str] = Counter()
    loaded: set[str] = set()
    seconds = 0.0
    for job in jobs:
        p = _output_of(out, job)
        if not p.is_file():
            continue
        d = json.loads(p.read_text(encoding="utf-8"))
        if opts.write_dataset:
            theorems += [TheoremRecord.from_json(t, "coq") for t in d["theorems"]]
        files.append(CorpusFile.from_json(d["corpus"]))
        failures += d["failures"]
        counts.update(d["counts"])
        loaded.update(d["loaded_libraries"])
        seconds += d["seconds"]
    splits: dict[str, dict[str, int]] = {}
    if opts.write_dataset:
        resolver = LibraryResolver(tuple(lp for job in jobs for lp in job.load_paths))
        noinit = sorted({l for job in jobs if "-noinit" in job.coq_flags for _, l in job.load_paths})
        files += external_corpus(loaded, {j.library for j in jobs}, resolver, noinit)
        files = add_module_fields(files)
        metadata = {
            "backend": "coq",
            "coq_version": coq_version(),
            "sources": sorted({j.url for j in jobs}),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "format": "LeanDojo Benchmark 4 (+ backend field)",
        }
        splits = write_dataset(out, theorems, Corpus(files), metadata, opts.seed, opts.num_eval)
    with open(out / "failures.jsonl", "w", encoding="utf-8") as f:
        for x in failures:
            f.write(json.dumps(x, ensure_ascii=False) + "\n")
    by_reason = Counter(x["reason"] for x in failures)
    return {
        "files": len(jobs),
        "files_traced": len(jobs) - len(errors),
        "files_failed": len(errors),
        "theorems": counts["theorems"],
        "traced_theorems": counts["traced_theorems"],
        "traced_tactics": counts["tactics"],
        "term_proofs": counts["term_proofs"],
        "admitted": counts["admitted"],
        "unnamed_proofs": counts["unnamed_proofs"],
        "sentences": counts["sentences"],
        "proof_sentences": counts["proof_sentences"],
        "unchanged_tactics": counts["unchanged_tactics"],
        "locate_queries": counts["locate_queries"],
        "restarts": counts["restarts"],
        "corpus_files": len(files),
        "corpus_premises": sum(len(f.premises) for f in files),
        "failures": len(failures),
        "failures_by_reason": dict(sorted(by_reason.items())),
        "worker_seconds": round(seconds, 2),
        "splits": splits,
    }


@functools.lru_cache(maxsize=1)
def coq_version() -> str:
    try:
        return subprocess.check_output(["coqc", "--print-version"], text=True).split()[0]
    except (OSError, subprocess.SubprocessError):
        return ""
