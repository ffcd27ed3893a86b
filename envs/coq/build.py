"""Coq projects on disk: discovery of their logical paths, and the build of those without .vo files.

`discover` reads a directory's `_CoqProject` (or names it); `build` copies a tree aside and compiles
it with `coqc` in `coqdep` order, leaving the sources untouched.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from proofsmith.envs.coq.declarations import IDENT
from proofsmith.envs.coq.source import coq_project_flags, coq_project_load_paths
from proofsmith.envs.process import run_batch


@dataclass(frozen=True)
class SourceTree:
    """A directory of .v files and the logical paths its files live under."""

    root: Path
    mappings: tuple[tuple[str, str], ...]  # (directory, logical prefix)
    coq_flags: tuple[str, ...] = ()  # what its files are compiled with (`-noinit`...: envs/coq/flags.py)

    def files(self) -> list[tuple[str, str]]:
        """(absolute .v path, library name) of every file."""
        out = []
        for directory, prefix in self.mappings:
            for p in sorted(Path(directory).rglob("*.v")):
                rel = p.relative_to(directory).with_suffix("")
                if any(not re.fullmatch(IDENT, part) for part in rel.parts):
                    continue
                out.append((str(p), ".".join(filter(None, [prefix, *rel.parts]))))
        return out


def discover(src: Path, logical: str | None = None) -> SourceTree:
    """The logical paths of `src`: its `_CoqProject`, else `logical`, else the directory's name; and the
    Coq flags its `_CoqProject` passes (`-arg -noinit`...)."""
    src = Path(src).resolve()
    if (src / "_CoqProject").is_file():
        maps = coq_project_load_paths(src / "_CoqProject")
        flags = coq_project_flags(src / "_CoqProject")
        if maps:
            return SourceTree(src, maps, flags)
        return SourceTree(src, ((str(src), logical or src.name),), flags)
    return SourceTree(src, ((str(src), logical or src.name),))


def git_origin(root: Path) -> tuple[str, str]:
    """(url, commit) of the repository holding `root`, or its file URI and "" outside git."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        url = subprocess.run(
            ["git", "-C", str(root), "config", "--get", "remote.origin.url"], capture_output=True, text=True, timeout=10
        )
        if commit.returncode == 0:
            return (url.stdout.strip() or root.as_uri()), commit.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return root.as_uri(), ""


def needs_build(tree: SourceTree) -> bool:
    return any(not os.path.isfile(path + "o") for path, _ in tree.files())


def _coqdep_order(tree: SourceTree, cwd: str) -> list[str]:
    """The tree's .v files (relative to `cwd`), dependencies first, from `coqdep`."""
    files = [os.path.relpath(p, cwd) for p, _ in tree.files()]
    argv = ["coqdep"] + [a for d, l in tree.mappings for a in ("-R", os.path.relpath(d, cwd), l)] + files
    res = run_batch(argv, timeout=300, cwd=cwd)
    deps: dict[str, set[str]] = {f: set() for f in files}
    for line in res.output.splitlines():
        if ":" not in line:
            continue
        lhs, rhs = line.split(":", 1)
        target = lhs.split()[0]
        if not target.endswith(".vo"):
            continue
        v = target[:-1]
        if v in deps:
            deps[v] |= {d[:-1] for d in rhs.split() if d.endswith(".vo") and d[:-1] in deps and d[:-1] != v}
    order, done = [], set()

    def visit(f: str, stack: frozenset = frozenset()) -> None:
        if f in done or f in stack:
            return
        for d in sorted(deps[f]):
            visit(d, stack | {f})
        done.add(f)
        order.append(f)

    for f in sorted(deps):
        visit(f)
    return order


def build(tree: SourceTree, build_dir: Path, timeout: float = 1800.0) -> SourceTree:
    """Copy the tree into `build_dir` and compile it there in dependency order (sources untouched)."""
    build_dir = Path(build_dir)
    if build_dir.exists():
        shutil.rmtree(build_dir)
    shutil.copytree(tree.root, build_dir, ignore=shutil.ignore_patterns("*.vo", "*.vos", "*.vok", "*.glob", ".git"))
    copy = SourceTree(
        build_dir, tuple((str(build_dir / os.path.relpath(d, tree.root)), l) for d, l in tree.mappings), tree.coq_flags
    )
    cwd = str(build_dir)
    rargs = [a for d, l in copy.mappings for a in ("-R", os.path.relpath(d, cwd), l)]
    for f in _coqdep_order(copy, cwd):
        res = run_batch(["coqc", "-q", *copy.coq_flags, *rargs, f], timeout=timeout, cwd=cwd)
        if res.returncode != 0:
            raise RuntimeError(f"coqc {f} failed: {res.output.strip()[-2000:]}")
    return copy
