"""From a traced dataset back to Coq sources: where each record's file is, under which logical
paths it loads, and which lemmas are accessible at each theorem.

`proofsmith trace` writes `traced/<path>.json` per file with the `source` it replayed, its `library`
name and the Coq flags it was replayed with; `proofsmith corpus` writes the same per package, under
`packages/<pkg>/traced/` (`dataset.loading.traced_outputs` lists either). The load path of a project
is recovered from the source and the library (the directory that maps to the library's first
component), the stdlib needs none.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from proofsmith.dataset.corpus import Corpus
from proofsmith.dataset.loading import load_splits, traced_outputs
from proofsmith.dataset.schema import TheoremRecord
from proofsmith.envs.coq.libraries import is_default_load_path


@dataclass(frozen=True)
class TracedFile:
    path: str  # dataset path, e.g. "src/BarA.v" or "Coq/Arith/PeanoNat.v"
    library: str
    source: str  # the .v file that was replayed
    url: str = ""
    commit: str = ""
    package: str | None = None  # its package (a `proofsmith corpus` dataset), None in a plain trace
    coq_flags: tuple[str, ...] = ()  # what it was traced with (HoTT: -noinit -indices-matter)


def load_path_of(source: str, library: str) -> tuple[str, str] | None:
    """The `-R dir prefix` under which `source` is the library `library` (None for Coq's defaults)."""
    parts = library.split(".")
    p = Path(source).with_suffix("")
    rel: list[str] = []
    while parts and p.name == parts[-1]:
        rel.insert(0, parts.pop())
        p = p.parent
        if len(parts) == 1:
            break
    if not parts:
        return None
    directory, prefix = str(p), ".".join(parts)
    return None if is_default_load_path(directory, prefix) else (directory, prefix)


@dataclass
class TracedDataset:
    root: Path
    files: dict[str, TracedFile]
    records: list[TheoremRecord]
    corpus: Corpus

    @property
    def load_paths(self) -> tuple[tuple[str, str], ...]:
        """The load paths of every traced file."""
        return files_load_paths(self.files.values())

    def load_paths_of(self, file_path: str) -> tuple[tuple[str, str], ...]:
        """What the file at `file_path` is replayed with: the load paths of the files of its package traced
        with its flags, as the tracer bound them (every file of a plain trace traced with its flags). In a
        corpus, another package's `-R` (HoTT's, with its own `Basics`...) never reaches it. A file the dataset
        did not trace gets every file's."""
        f = self.files.get(file_path)
        if f is None:
            return self.load_paths
        return files_load_paths(g for g in self.files.values() if (g.package, g.coq_flags) == (f.package, f.coq_flags))

    def flag_groups(self) -> dict[tuple[str, ...], list[TracedFile]]:
        """The traced files by the Coq flags they were traced with (one coqidetop per group can load them)."""
        groups: dict[tuple[str, ...], list[TracedFile]] = {}
        for f in self.files.values():
            groups.setdefault(f.coq_flags, []).append(f)
        return groups

    def flags_of_path(self, path: str) -> tuple[str, ...]:
        """The Coq flags the file at dataset path `path` loads under: those it was traced with, else (a
        library the dataset loads but did not trace) those of its installed package (the package list)."""
        if path in self.files:
            return self.files[path].coq_flags
        from proofsmith.dataset.packages import coq_flags_of

        return coq_flags_of(library_of_path(path))

    @classmethod
    def load(cls, root: Path) -> TracedDataset:
        root = Path(root)
        files: dict[str, TracedFile] = {}
        records: dict[tuple[str, str], TheoremRecord] = {}
        for out in traced_outputs(root):  # `traced/` of a trace, `packages/<pkg>/traced/` of a corpus
            d = json.loads(out.path.read_text(encoding="utf-8"))
            if not {"path", "library", "source"} <= d.keys():
                continue
            th = d.get("theorems") or []
            url = th[0].get("url", "") if th else ""
            commit = th[0].get("commit", "") if th else ""
            flags = tuple(d.get("coq_flags") or ())
            files[d["path"]] = TracedFile(d["path"], d["library"], d["source"], url, commit, out.package, flags)
            for t in th:
                r = TheoremRecord.from_json(t, "coq")
                if out.package is not None and r.package is None:  # as the corpus merge gives it
                    r = dataclasses.replace(r, package=out.package)
                records[r.key] = r
        if not records:  # a dataset without per-file outputs: read the split files
            for recs in load_splits(root, "random").values():
                for r in recs:
                    records[r.key] = r
        corpus = Corpus.read_jsonl(root / "corpus.jsonl") if (root / "corpus.jsonl").is_file() else Corpus([])
        ordered = sorted(records.values(), key=lambda r: (r.file_path, r.start or (0, 0)))
        return cls(root, files, ordered, corpus)


def files_load_paths(files: Iterable[TracedFile]) -> tuple[tuple[str, str], ...]:
    """The load paths the tracer bound for `files` (Coq's defaults left out)."""
    out: dict[tuple[str, str], None] = {}
    for f in files:
        lp = load_path_of(f.source, f.library)
        if lp is not None:
            out[lp] = None
    return tuple(out)


def library_of_path(path: str) -> str:
    return path[:-2].replace("/", ".") if path.endswith(".v") else path.replace("/", ".")


THEOREM_KINDS = {"theorem", "lemma", "fact", "remark", "corollary", "proposition", "property"}


def premise_pool(ds: TracedDataset) -> dict[str, tuple[str, tuple[int, int] | None]]:
    """Lemma full name → (defining file path, end position or None): the corpus' theorem-like
    premises, plus every premise a traced tactic names (e.g. `Include`d functor lemmas, which the
    corpus cannot list)."""
    pool: dict[str, tuple[str, tuple[int, int] | None]] = {}
    for f in ds.corpus.files.values():
        for p in f.premises:
            if p.kind in THEOREM_KINDS:
                pool[p.full_name] = (f.path, p.end)
    for r in ds.records:
        for t in r.traced_tactics:
            for used in t.premises:
                if used.full_name not in pool and used.def_path:
                    pool[used.full_name] = (used.def_path, used.def_end_pos)
    return pool


def accessible_names(
    ds: TracedDataset, pool: dict[str, tuple[str, tuple[int, int] | None]], record: TheoremRecord
) -> dict[str, str]:
    """Full name → the name to write in a tactic at `record`, for the pool's lemmas it can use:
    those of files its file imports (absolute names), and those of its own file that end before it
    (the name relative to the file, which is compiled under another logical name when verified)."""
    imported = ds.corpus.imported(record.file_path)
    lib = library_of_path(record.file_path)
    out: dict[str, str] = {}
    start = tuple(record.start or (0, 0))
    for name, (path, end) in pool.items():
        if path == record.file_path:
            if end is not None and tuple(end) <= start and name.startswith(lib + "."):
                out[name] = name[len(lib) + 1 :]
        elif path in imported:
            out[name] = name
    return out


def all_libraries(ds: TracedDataset, files: Iterable[TracedFile] | None = None) -> list[str]:
    """The libraries of `files` (default: every traced file), shallowest first."""
    libs = {f.library for f in (ds.files.values() if files is None else files)}
    return sorted(libs, key=lambda l: (l.count("."), l))


def existing_root(path: str) -> bool:
    return os.path.isfile(path)
