"""Loading proof-search benchmarks: a directory of .v files (one theorem each, miniF2F style), or a
.v file with several theorems. Files come as found in the wild (`Proof. Admitted.`, a bare
`Proof.`, helper definitions first); the loader says which theorem it picked in each file and why.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from proofsmith.envs.base import TheoremRef
from proofsmith.envs.coq.libraries import logical_name
from proofsmith.envs.coq.source import list_theorems, locate


@dataclass(frozen=True)
class BenchTheorem:
    ref: TheoremRef
    note: str  # how the theorem was found
    # The name qualified by its modules in the file (`Z2N.inj_quot2`), set where the short name is not
    # unique in its file: Znat.v states `inj_quot2` in both N2Z and Z2N.
    qualified_name: str | None = None

    @property
    def key(self) -> str:
        """Stable identity of the theorem in a results file."""
        return f"{self.ref.file_path}::{self.qualified_name or self.ref.name}"


def benchmark_half(name: str) -> str:
    """ "A" or "B": a fixed, stable split of a benchmark by theorem name (first byte of sha256(name) even → A).
    Expert iteration trains on half A; a benchmark can then report on half B, which it never saw."""
    return "A" if hashlib.sha256(name.encode("utf-8")).digest()[0] % 2 == 0 else "B"


def sample_theorems(theorems: list[BenchTheorem], n: int, seed: int = 0) -> list[BenchTheorem]:
    """A fixed random sample of `n` theorems (all of them when there are fewer): the `n` smallest by
    sha256(seed:key), so the sample depends only on the keys and the seed, not on their order, and a
    larger sample contains a smaller one."""
    ranked = sorted(theorems, key=lambda t: hashlib.sha256(f"{seed}:{t.key}".encode()).hexdigest())
    return ranked[:n]


def _unproved(ref: TheoremRef) -> bool:
    _, end = locate(ref).proof()
    return end in (None, "Admitted.", "Abort.")


def theorems_in_file(path: Path, one_per_file: bool) -> list[BenchTheorem]:
    names = [n for _, n in list_theorems(path.read_text(encoding="utf-8"))]
    if not names:
        return []
    refs = [TheoremRef.from_file(path, n) for n in names]
    open_refs = [r for r in refs if _unproved(r)]
    if not one_per_file:
        chosen = open_refs or refs
        return [BenchTheorem(r, "unproved in file" if r in open_refs else "proved in file; re-proving") for r in chosen]
    for r in refs:
        if r.name == path.stem:
            return [BenchTheorem(r, "name matches the file")]
    if open_refs:
        return [BenchTheorem(open_refs[-1], f"last unproved of {len(refs)} theorem(s)")]
    return [BenchTheorem(refs[-1], f"last of {len(refs)} theorem(s), all proved")]


def load_benchmark(path: str | Path) -> list[BenchTheorem]:
    p = Path(path)
    if p.is_dir():
        out: list[BenchTheorem] = []
        for f in sorted(p.glob("*.v")):
            out += theorems_in_file(f.resolve(), one_per_file=True)
        return out
    if p.suffix == ".v" and p.is_file():
        return theorems_in_file(p.resolve(), one_per_file=False)
    raise ValueError(f"{path}: expected a directory of .v files or a .v file")


def source_file(url: str, file_path: str, root: Path | None = None) -> Path | None:
    """The .v file of a traced record: under `root` if given, else under the record's `file://` url.
    Traced paths may start with the logical prefix (`Coq/Lists/List.v` under `.../theories/Lists`),
    so the longest suffix that exists wins."""
    base = root or (Path(url[len("file://") :]) if url.startswith("file://") else None)
    if base is None:
        return None
    parts = Path(file_path).parts
    for i in range(len(parts)):
        candidate = base.joinpath(*parts[i:])
        if candidate.is_file():
            return candidate
    return None


def load_split(
    data_dir: str | Path, split: str, root: Path | None = None, load_paths: tuple[tuple[str, str], ...] = ()
) -> list[BenchTheorem]:
    """Theorems of a traced dataset split (`random/test`, `novel_premises/val`, `novel_packages/test`...) as
    benchmark items."""
    from proofsmith.dataset.loading import read_split
    from proofsmith.dataset.splits import ALL_SPLIT_STRATEGIES, NOVEL_PACKAGES, SPLIT_NAMES

    path = Path(data_dir) / f"{split}.json"
    if not path.is_file():
        hint = (
            f"; {NOVEL_PACKAGES} is written by `proofsmith corpus`, not `proofsmith trace`"
            if split.partition("/")[0] == NOVEL_PACKAGES
            else ""
        )
        raise ValueError(
            f"no split file {path} (expected DIR/<{'|'.join(ALL_SPLIT_STRATEGIES)}>/<{'|'.join(SPLIT_NAMES)}>.json{hint})"
        )
    out = []
    records = list(read_split(path))
    seen = Counter((rec.file_path, rec.full_name.rsplit(".", 1)[-1]) for rec in records)
    for rec in records:
        if rec.backend != "coq":
            raise ValueError(f"{rec.full_name}: backend {rec.backend!r} cannot run here (only Coq is installed)")
        f = source_file(rec.url, rec.file_path, root)
        if f is None:
            raise ValueError(f"cannot find the source of {rec.full_name} ({rec.url} {rec.file_path}); pass --root")
        # the traced position finds the statement even where the short name is declared more than once in
        # the file (several modules, sections, functor bodies); the short name keeps results keys stable,
        # and is qualified by its modules where the file states it twice; the traced Coq flags (HoTT:
        # -noinit -indices-matter) start and verify it as it was traced
        short = rec.full_name.rsplit(".", 1)[-1]
        ref = TheoremRef.from_file(
            f,
            short,
            load_paths=load_paths,
            position=tuple(rec.start) if rec.start else None,
            coq_flags=rec.coq_flags,
        )
        qualified = None
        if seen[(rec.file_path, short)] > 1:
            qualified = rec.full_name.removeprefix(logical_name(rec.file_path) + ".")
        out.append(BenchTheorem(ref, f"{split} split of {data_dir}", qualified))
    return out
