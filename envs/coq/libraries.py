"""Coq library resolution: logical library names, their dataset paths and source files.

`coqlib` and the default load paths (the stdlib as `Coq`, user-contrib), and `LibraryResolver`,
which maps a global's full name to the library and source position that define it.
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from proofsmith.dataset.schema import Provenance
from proofsmith.envs.coq.declarations import Declarations, parse_declarations


def library_path(library: str) -> str:
    """Dataset path of a library: its logical name as directories (`Coq.Arith.PeanoNat` → `Coq/Arith/PeanoNat.v`)."""
    return library.replace(".", "/") + ".v"


def logical_name(corpus_path: str) -> str:
    """`Coq/Reals/Reals.v` → `Coq.Reals.Reals`."""
    return corpus_path[:-2].replace("/", ".") if corpus_path.endswith(".v") else corpus_path.replace("/", ".")


@functools.lru_cache(maxsize=1)
def coqlib() -> str:
    return subprocess.check_output(["coqc", "-where"], text=True).strip()


def default_roots() -> list[tuple[str, str]]:
    """Where Coq finds libraries without `-R`: the stdlib as `Coq`, user-contrib by directory."""
    return [(os.path.join(coqlib(), "theories"), "Coq"), (os.path.join(coqlib(), "user-contrib"), "")]


@functools.lru_cache(maxsize=4096)
def library_name(file_path: Path | str | None, load_paths: tuple[tuple[str, str], ...]) -> str | None:
    """The logical name of a source file under the load paths or Coq's defaults (`.../theories/ZArith/
    Zdiv.v` → `Coq.ZArith.Zdiv`, `.../user-contrib/Coquelicot/RInt.v` → `Coquelicot.RInt`); None
    for a file outside them (a benchmark statement's own file)."""
    if file_path is None:
        return None
    path = os.path.realpath(file_path)
    for directory, prefix in [*load_paths, *default_roots()]:
        rel = os.path.relpath(path, os.path.realpath(directory))
        if rel.startswith("..") or not rel.endswith(".v"):
            continue
        parts = [p for p in prefix.split(".") if p] + rel[:-2].split(os.sep)
        return ".".join(parts)
    return None


def is_default_load_path(directory: str, logical: str) -> bool:
    """True for the stdlib's own mapping. user-contrib is only `-Q`-bound by default, so its
    libraries (MathComp: `Require Export eqtype.`) still get an explicit `-R`."""
    d = os.path.realpath(directory)
    for root, prefix in default_roots()[:1]:
        r = os.path.realpath(root)
        rel = os.path.relpath(d, r)
        if rel.startswith(".."):
            continue
        expect = prefix if rel == "." else ".".join(filter(None, [prefix, rel.replace(os.sep, ".")]))
        if expect == logical:
            return True
    return False


@functools.lru_cache(maxsize=256)
def _declarations_of(src: str, library: str, mtime_ns: int, size: int) -> Declarations:
    """Parsed once per worker process, not once per traced file: a UniMath file names premises from
    dozens of large libraries, and re-parsing them took more than half of its trace time. The stamp
    (mtime, size) keeps an edited source from being served stale. Read-only for callers."""
    return parse_declarations(Path(src).read_text(encoding="utf-8"), library)


class LibraryResolver:
    """Logical library names ↔ source files, over the project's load paths and Coq's defaults."""

    def __init__(self, load_paths: Sequence[tuple[str, str]] = ()):
        self.roots = list(load_paths) + default_roots()
        self._files: dict[str, str | None] = {}
        self._decls: dict[str, Declarations | None] = {}

    def source(self, library: str) -> str | None:
        if library not in self._files:
            found = None
            for directory, prefix in self.roots:
                if prefix and library != prefix and not library.startswith(prefix + "."):
                    continue
                rel = library[len(prefix) + 1 :] if prefix else library
                cand = os.path.join(directory, *rel.split(".")) + ".v"
                if rel and os.path.isfile(cand):
                    found = cand
                    break
            self._files[library] = found
        return self._files[library]

    def library_of(self, full_name: str) -> str | None:
        """The library (longest dotted prefix with a source file) that defines `full_name`."""
        parts = full_name.split(".")
        for k in range(len(parts) - 1, 0, -1):
            lib = ".".join(parts[:k])
            if self.source(lib):
                return lib
        return None

    def declarations(self, library: str) -> Declarations | None:
        if library not in self._decls:
            src = self.source(library)
            try:
                st = os.stat(src) if src else None
                self._decls[library] = _declarations_of(src, library, st.st_mtime_ns, st.st_size) if st else None
            except (OSError, ValueError):
                self._decls[library] = None
        return self._decls[library]

    def provenance(self, full_name: str) -> Provenance:
        lib = self.library_of(full_name)
        if lib is None:
            return Provenance(full_name, "")
        decls = self.declarations(lib)
        span = decls.span_of(full_name) if decls else None
        return Provenance(full_name, library_path(lib), *(span or (None, None)))
