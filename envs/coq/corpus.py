"""A corpus of many Coq library packages (`proofsmith corpus`): find each package's sources, trace
them package by package (resumable), merge them into one dataset with three split strategies and
write its card.

Layout of `out/`:
    packages/<pkg>/source.json   what is being traced (version, libraries): a change restarts the package
    packages/<pkg>/traced/...    the tracer's per-file outputs (a rerun skips the files found here)
    packages/<pkg>/package.json  written when the package is done: a rerun skips the package
    corpus.jsonl, {random,novel_premises,novel_packages}/{train,val,test}.json, metadata.json,
    trace_stats.json, failures.jsonl, DATASET.md, dataset_card.json   the merged dataset

The merge never holds the corpus in memory: records are serialized once to a scratch file, the
splits are computed on light stand-ins (`SplitItem`), and each split file is streamed from the
scratch file in split order.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from tqdm import tqdm

from proofsmith.dataset.card import DatasetCard, ExcludedPackage, PackageCard, write_card
from proofsmith.dataset.corpus import Corpus
from proofsmith.dataset.files import atomic_writer, write_json
from proofsmith.dataset.loading import PACKAGES_DIR, package_traced_dir, write_split_file
from proofsmith.dataset.packages import (
    DEFAULT_PACKAGE_LIST,
    PackageEntry,
    PackageListError,
    declared_licences,
    installed_version,
    load_package_list,
    package_files,
)
from proofsmith.dataset.schema import CorpusFile, TheoremRecord
from proofsmith.dataset.splits import (
    DEFAULT_SEED,
    NOVEL_PACKAGES,
    NOVEL_PACKAGES_TEST,
    NOVEL_PACKAGES_VAL,
    SplitItem,
    make_splits,
)
from proofsmith.envs.coq.build import SourceTree, discover
from proofsmith.envs.coq.libraries import LibraryResolver, coqlib, is_default_load_path, library_path
from proofsmith.envs.coq.module_fields import add_module_fields
from proofsmith.envs.coq.trace import TraceOptions, coq_version, external_corpus, trace_sources
from proofsmith.envs.limits import SENTENCE_TIMEOUT

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackageTree(SourceTree):
    """A source tree restricted to the files one package ships (several MathComp packages share
    `user-contrib/mathcomp`, bound once as `-R ... mathcomp`)."""

    only: frozenset[str] = frozenset()

    def files(self) -> list[tuple[str, str]]:
        return [(path, lib) for path, lib in super().files() if path in self.only]


@dataclass(frozen=True)
class PackageSources:
    """A package of the list, found on disk: its trees, the libraries they hold, its metadata."""

    entry: PackageEntry
    version: str
    licence: str
    licences: tuple[str, ...]
    trees: tuple[SourceTree, ...]
    libraries: tuple[str, ...]  # logical names of the files to trace
    excluded_files: int = 0  # files left out by the entry's `exclude`

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def coq_flags(self) -> tuple[str, ...]:
        """The Coq flags its files are traced with (its trees share them: the list's `coq_flags`)."""
        return next((t.coq_flags for t in self.trees if t.coq_flags), ())


def _root_dir(root: str) -> Path:
    base = Path(coqlib())
    return base / "theories" if root == "Coq" else base / "user-contrib" / Path(*root.split("."))


def _keep(entry: PackageEntry, tree: SourceTree) -> tuple[frozenset[str], int]:
    """The tree's files minus those `exclude` leaves out, and how many were left out."""
    keep = [(p, lib) for p, lib in tree.files() if entry.excluded(lib) is None]
    return frozenset(p for p, _ in keep), len(tree.files()) - len(keep)


def only_library(pkg: PackageSources, library: str) -> PackageSources:
    """`pkg` restricted to the one file of logical name `library` (e.g. `HoTT.Basics.Contractible`):
    trace a single file as `proofsmith corpus` would, with the package's load paths and flags."""
    for tree in pkg.trees:
        only = frozenset(path for path, lib in tree.files() if lib == library)
        if only:
            one = PackageTree(tree.root, tree.mappings, tree.coq_flags, only=only)
            return replace(pkg, trees=(one,), libraries=(library,))
    raise PackageListError(f"{pkg.name} has no file {library}")


def package_file(name: str, library: str, package_list: Path = DEFAULT_PACKAGE_LIST) -> PackageSources:
    """The installed package `name` of the list, as `proofsmith corpus` finds it, restricted to the file
    `library` (`only_library`)."""
    entry = next((e for e in load_package_list(package_list) if e.name == name), None)
    if entry is None:
        raise PackageListError(f"{name} is not in {package_list}")
    return only_library(discover_package(entry), library)


def discover_package(entry: PackageEntry) -> PackageSources:
    """The sources of an installed Debian package (its own .v files with a .vo, under its roots)
    or of a local project. Raises `PackageListError` when the list does not match what is on disk."""
    if entry.path is not None:
        if not entry.path.is_dir():
            raise PackageListError(f"{entry.name}: local project {entry.path} is not a directory")
        tree = discover(entry.path, entry.roots[0])
        only, dropped = _keep(entry, tree)
        # the list's flags, else those of the project's _CoqProject
        tree = PackageTree(tree.root, tree.mappings, entry.coq_flags or tree.coq_flags, only=only)
        libs = tuple(lib for _, lib in tree.files())
        if not libs:
            raise PackageListError(f"{entry.name}: no .v files in {entry.path}")
        return PackageSources(entry, entry.version, entry.licence or "unknown", (), (tree,), libs, dropped)
    version = installed_version(entry.name)
    if version is None:
        raise PackageListError(f"{entry.name} is not installed")
    if version != entry.version:
        log.warning("%s: installed %s, the list has %s (traced as installed)", entry.name, version, entry.version)
    shipped = sorted(f for f in package_files(entry.name) if f.endswith(".v") and os.path.isfile(f + "o"))
    trees: list[SourceTree] = []
    claimed: set[str] = set()
    dropped_total = 0
    for root in entry.roots:
        directory = _root_dir(root)
        mine = [f for f in shipped if Path(f).is_relative_to(directory)]
        if not mine:
            raise PackageListError(
                f"{entry.name}: no compiled .v sources under {directory} (root {root}); update the package list"
            )
        claimed.update(mine)
        top = Path(os.path.commonpath([os.path.dirname(f) for f in mine]))
        tree = PackageTree(top, ((str(directory), root),), entry.coq_flags, only=frozenset(mine))
        only, dropped = _keep(entry, tree)
        dropped_total += dropped
        trees.append(PackageTree(top, tree.mappings, entry.coq_flags, only=only))
    stray = [f for f in shipped if f not in claimed]
    if stray:
        raise PackageListError(
            f"{entry.name}: ships sources outside its roots ({stray[0]}...); update the package list"
        )
    libs = tuple(lib for t in trees for _, lib in t.files())
    if not libs:
        raise PackageListError(f"{entry.name}: every source file is excluded")
    licence, licences = declared_licences(entry.name)
    return PackageSources(entry, version, licence, licences, tuple(trees), libs, dropped_total)


@dataclass
class CorpusOptions:
    workers: int = max(1, os.cpu_count() or 1)
    progress: bool = True
    call_timeout: float = SENTENCE_TIMEOUT
    seed: int = DEFAULT_SEED
    num_eval: int | None = None
    excluded: list[ExcludedPackage] = field(default_factory=list)  # for the card
    name: str = "coq-debian"


def _pkg_dir(out: Path, name: str) -> Path:
    return out / PACKAGES_DIR / name


def _identity(pkg: PackageSources) -> dict:
    ident = {"name": pkg.name, "version": pkg.version, "libraries": list(pkg.libraries)}
    if pkg.coq_flags:  # other flags, another trace (kept out when none: older outputs resume)
        ident["coq_flags"] = list(pkg.coq_flags)
    return ident


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _tick(bar: tqdm) -> None:
    bar.update(1)


def trace_package(
    pkg: PackageSources, out: Path, opts: CorpusOptions, overall: tqdm | None = None
) -> tuple[dict, bool]:
    """Trace one package into `out/packages/<pkg>/` (resuming what is there); returns its stats and
    whether it was done already."""
    pdir = _pkg_dir(out, pkg.name)
    ident = _identity(pkg)
    if _read_json(pdir / "source.json") not in (None, ident):
        log.warning("%s changed since its last trace (version or files): tracing it again", pkg.name)
        shutil.rmtree(pdir)
    done = _read_json(pdir / "package.json")
    if done is not None and done.get("source") == ident:
        if overall is not None:
            overall.update(len(pkg.libraries))
        return done["stats"], True
    write_json(pdir / "source.json", ident)
    topts = TraceOptions(
        workers=opts.workers,
        progress=opts.progress,
        call_timeout=opts.call_timeout,
        write_dataset=False,
        desc=pkg.name.removeprefix("libcoq-"),
        on_file=(lambda: _tick(overall)) if overall is not None else None,
    )
    if overall is not None:
        overall.update(sum(path.is_file() for path in _traced_outputs(out, pkg)))
    stats = trace_sources(pkg.trees, pdir, topts)
    write_json(pdir / "package.json", {"source": ident, "stats": stats})
    return stats, False


def build_corpus(packages: Sequence[PackageSources], out: Path, opts: CorpusOptions | None = None) -> dict:
    """Trace every package (resumable), then merge them into one dataset and write its card."""
    opts = opts or CorpusOptions()
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    total = sum(len(p.libraries) for p in packages)
    overall = tqdm(total=total, unit="file", desc="corpus", disable=not opts.progress, dynamic_ncols=True, position=0)
    per_package: dict[str, dict] = {}
    resumed = 0
    for k, pkg in enumerate(packages):
        overall.set_postfix(package=f"{k + 1}/{len(packages)} {pkg.name}")
        per_package[pkg.name], was_done = trace_package(pkg, out, opts, overall)
        resumed += was_done
        s = per_package[pkg.name]
        msg = (
            f"{pkg.name}: {s['files']} files, {s['traced_theorems']} theorems, {s['traced_tactics']} tactics, "
            f"{s['failures']} failures{' (done before)' if was_done else ''}"
        )
        if opts.progress:
            tqdm.write(msg)
        log.info(msg)
    overall.close()
    stats = merge(out, packages, per_package, opts)
    stats["packages_resumed"] = resumed
    stats["wall_seconds"] = round(time.monotonic() - t0, 2)
    write_json(out / "trace_stats.json", stats)
    return stats


def _traced_outputs(out: Path, pkg: PackageSources) -> list[Path]:
    """The per-file outputs the package's files get (`dataset.loading.traced_outputs` lists what is there)."""
    traced = package_traced_dir(out, pkg.name)
    return [traced / (library_path(lib)[:-2] + ".json") for lib in pkg.libraries]


def merge(out: Path, packages: Sequence[PackageSources], per_package: dict[str, dict], opts: CorpusOptions) -> dict:
    """The merged dataset under `out` from the packages' traced outputs; returns the merged stats."""
    items: list[SplitItem] = []
    spans: list[tuple[int, int]] = []  # (offset, length) of each serialized record in the scratch file
    files: list[CorpusFile] = []
    loaded: set[str] = set()
    cards: list[PackageCard] = []
    scratch = out / "merge_records.tmp"
    with open(scratch, "wb") as store:
        for pkg in packages:
            card = PackageCard(
                pkg.name,
                pkg.version,
                pkg.entry.version,
                pkg.licence,
                pkg.licences,
                pkg.entry.roots,
                files=len(pkg.libraries),
                files_failed=per_package[pkg.name]["files_failed"],
                theorems=per_package[pkg.name]["theorems"],
                failures_by_reason=dict(per_package[pkg.name]["failures_by_reason"]),
                excluded_files=dict(pkg.entry.exclude),
                novel_packages="val"
                if pkg.name in NOVEL_PACKAGES_VAL
                else "test"
                if pkg.name in NOVEL_PACKAGES_TEST
                else "train",
                coq_flags=pkg.coq_flags,
            )
            used: set[str] = set()
            for path in _traced_outputs(out, pkg):
                d = _read_json(path)
                if d is None:  # a file the tracer could not replay: counted in files_failed
                    continue
                for t in d["theorems"]:
                    t["package"] = pkg.name
                    rec = TheoremRecord.from_json(t, "coq")
                    data = json.dumps(rec.to_json(), ensure_ascii=False).encode("utf-8")
                    spans.append((store.tell(), len(data)))
                    store.write(data)
                    names = rec.premise_names()
                    used |= names
                    items.append(SplitItem(rec.key, rec.start, pkg.name, frozenset(names), len(spans) - 1))
                    card.traced_theorems += 1
                    card.traced_tactics += len(rec.traced_tactics)
                cf = CorpusFile.from_json(d["corpus"])
                files.append(cf)
                card.premises_defined += len(cf.premises)
                loaded.update(d["loaded_libraries"])
            card.premises_used = len(used)
            cards.append(card)
    traced = {lib for p in packages for lib in p.libraries}
    resolver = LibraryResolver(
        tuple((d, l) for p in packages for t in p.trees for d, l in t.mappings if not is_default_load_path(d, l))
    )
    noinit = sorted({l for p in packages if "-noinit" in p.coq_flags for t in p.trees for _, l in t.mappings})
    files += external_corpus(loaded, traced, resolver, noinit)
    Corpus(add_module_fields(files)).write_jsonl(out / "corpus.jsonl")
    counts: dict[str, dict[str, int]] = {}
    with open(scratch, "rb") as reader:

        def texts(recs: Sequence[SplitItem]):
            for it in recs:
                offset, length = spans[it.ref]
                reader.seek(offset)
                yield reader.read(length).decode("utf-8")

        for strategy, parts in make_splits(items, opts.seed, opts.num_eval).items():
            counts[strategy] = {
                name: write_split_file(out / strategy / f"{name}.json", texts(recs)) for name, recs in parts.items()
            }
    scratch.unlink()
    failures = _merge_failures(out, packages)
    version = coq_version()
    created = time.strftime("%Y-%m-%dT%H:%M:%S")
    metadata = {
        "backend": "coq",
        "coq_version": version,
        "packages": {p.name: p.version for p in packages},
        "sources": sorted({t.root.as_uri() for p in packages for t in p.trees}),
        "created": created,
        "format": "LeanDojo Benchmark 4 (+ backend and package fields)",
        "seed": opts.seed,
        "splits": counts,
        NOVEL_PACKAGES: {"val": list(NOVEL_PACKAGES_VAL), "test": list(NOVEL_PACKAGES_TEST)},
    }
    write_json(out / "metadata.json", metadata)
    dataset_card = DatasetCard(
        opts.name,
        created,
        version,
        opts.seed,
        cards,
        list(opts.excluded),
        counts,
        {"val": list(NOVEL_PACKAGES_VAL), "test": list(NOVEL_PACKAGES_TEST)},
    )
    write_card(out, dataset_card)
    totals = dataset_card.totals()
    sums: Counter[str] = Counter()
    for s in per_package.values():
        sums.update({k: s.get(k, 0) for k in ("sentences", "proof_sentences", "term_proofs", "admitted", "restarts")})
    return {
        **totals,
        **dict(sums),
        "worker_seconds": round(sum(s.get("worker_seconds", 0.0) for s in per_package.values()), 2),
        "corpus_files": len(files),
        "corpus_premises": sum(len(f.premises) for f in files),
        "failures_listed": failures,
        "splits": counts,
        "per_package": {c.name: {"files": c.files, "traced_theorems": c.traced_theorems} for c in cards},
    }


def _merge_failures(out: Path, packages: Sequence[PackageSources]) -> int:
    """`out/failures.jsonl`: every package's failures, each with its package; returns how many."""
    n = 0
    with atomic_writer(out / "failures.jsonl") as f:
        for pkg in packages:
            path = _pkg_dir(out, pkg.name) / "failures.jsonl"
            if not path.is_file():
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    f.write(json.dumps({"package": pkg.name, **json.loads(line)}, ensure_ascii=False) + "\n")
                    n += 1
    return n
