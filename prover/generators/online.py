"""Online learning for the k-NN generator, as Tactician and Graph2Tac are evaluated: while proving a
theorem of a package, the prover also learns from the proofs that come before it, i.e. the traced
tactics of every theorem the theorem can see. Visible means what a Coq user working at that point has
compiled: the theorems of the files its file imports (directly or transitively; Tactician stores its
learned tactics in the `.vo` files, so a `Require` brings exactly these) and the theorems earlier in
its own file. Its own proof and anything after it are never visible.

`knn:INDEX#online=SPLIT.json` adds the traced theorems of SPLIT.json (usually the split being proved,
such as `novel_packages/test`) to the index this way; the file imports come from the `corpus.jsonl`
beside the split's strategy directory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from proofsmith.envs.base import TheoremRef

log = logging.getLogger(__name__)

Position = tuple[int, int]
ONLINE_OPTION = "#online="  # knn:INDEX#online=SPLIT.json


@dataclass(frozen=True)
class OnlineExample:
    state: str
    tactic: str
    file_path: str  # the theorem's corpus path (`Coqprime/PrimalityTest/Pocklington.v`)
    start: Position  # where the theorem's statement starts


class OnlineExamples:
    """Traced (state, tactic) pairs with where their theorem is, and which of them a theorem sees."""

    def __init__(
        self,
        examples: Sequence[OnlineExample],
        imports: Callable[[str], frozenset[str]] | None = None,
    ):
        self.examples = list(examples)
        self._imports = imports
        self._file = np.array([e.file_path for e in self.examples], dtype=object)
        self._start = np.array([e.start for e in self.examples], dtype=np.int64).reshape(-1, 2)
        self.paths = frozenset(e.file_path for e in self.examples)

    def __len__(self) -> int:
        return len(self.examples)

    @classmethod
    def from_split(cls, path: Path | str) -> OnlineExamples:
        """The traced tactics of a split file (`DIR/STRATEGY/SPLIT.json`), with the imports of
        `DIR/corpus.jsonl` (without it, a theorem sees only the earlier theorems of its own file)."""
        from proofsmith.dataset.corpus import Corpus
        from proofsmith.dataset.loading import read_split

        path = Path(path)
        examples = [
            OnlineExample(t.state_before, t.tactic, r.file_path, (int(r.start[0]), int(r.start[1])))
            for r in read_split(path)
            if r.start is not None
            for t in r.traced_tactics
            if t.state_before.strip() and t.tactic.strip()
        ]
        corpus_path = path.parent.parent / "corpus.jsonl"
        imports = None
        if corpus_path.is_file():
            imports = Corpus.read_jsonl(corpus_path).imported
        else:
            log.warning("%s: no corpus.jsonl beside it; online examples from the theorem's own file only", path)
        return cls(examples, imports)

    def corpus_path(self, theorem: TheoremRef) -> str | None:
        """The theorem's file as a corpus path, when it is one of the examples' files (else None)."""
        if theorem.file_path is None:
            return None
        from proofsmith.prover.premise_lookup import corpus_file

        known = set(self.paths)
        return corpus_file(theorem, known) or _suffix_match(str(theorem.file_path), known)

    def visible(self, theorem: TheoremRef) -> np.ndarray:
        """Ids of the examples the theorem sees: those of the files its file imports, and those of
        theorems that start before it in its own file; none for a statement outside the files."""
        own = self.corpus_path(theorem)
        if own is None or not len(self.examples):
            return np.zeros(0, dtype=np.int64)
        imported = self._imports(own) if self._imports is not None else frozenset()
        in_imports = np.array([f in imported for f in self._file], dtype=bool)
        same = self._file == own
        if theorem.position is None:
            before = np.zeros(len(self.examples), dtype=bool)
        else:
            line, col = theorem.position
            before = (self._start[:, 0] < line) | ((self._start[:, 0] == line) & (self._start[:, 1] < col))
        return np.flatnonzero(in_imports | (same & before))


def _suffix_match(file_path: str, known: frozenset[str] | set[str]) -> str | None:
    """The known corpus path the file path ends with (`/usr/lib/.../user-contrib/Abel/abel.v` →
    `Abel/abel.v`), the longest one when several do."""
    hits = [p for p in known if file_path == p or file_path.endswith("/" + p)]
    return max(hits, key=len) if hits else None
