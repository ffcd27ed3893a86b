"""The premise corpus: files, their import DAG, and the premises accessible at a position."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from proofsmith.dataset.files import atomic_writer
from proofsmith.dataset.schema import CorpusFile, Pos, Premise


class Corpus:
    """Files, their import DAG and premises; what is accessible at a position (ReProver's rule:
    same-file premises ending at or before the position, plus everything transitively imported)."""

    def __init__(self, files: Iterable[CorpusFile]):
        self.files: dict[str, CorpusFile] = {f.path: f for f in files}
        self._closure: dict[str, frozenset[str]] = {}

    def imported(self, path: str) -> frozenset[str]:
        """All files `path` imports, directly or transitively (imports outside the corpus included)."""
        if path in self._closure:
            return self._closure[path]
        seen: set[str] = set()
        stack = list(self.files[path].imports) if path in self.files else []
        while stack:
            p = stack.pop()
            if p in seen:
                continue
            seen.add(p)
            if p in self._closure:
                seen |= self._closure[p]
            elif p in self.files:
                stack.extend(self.files[p].imports)
        self._closure[path] = frozenset(seen)
        return self._closure[path]

    def accessible_premises(self, path: str, pos: Pos) -> list[Premise]:
        out = [p for p in self.files[path].premises if p.end <= tuple(pos)] if path in self.files else []
        for imp in sorted(self.imported(path)):
            if imp in self.files:
                out.extend(self.files[imp].premises)
        return out

    def topological_order(self) -> list[str]:
        """Every file after the files it imports (what ReProver's `Corpus` asserts of corpus.jsonl)."""
        order: list[str] = []
        state: dict[str, int] = {}
        for root in sorted(self.files):
            stack = [(root, iter(sorted(self.files[root].imports)))]
            if state.get(root):
                continue
            state[root] = 1
            while stack:
                node, it = stack[-1]
                nxt = next((i for i in it if i in self.files and not state.get(i)), None)
                if nxt is None:
                    stack.pop()
                    state[node] = 2
                    order.append(node)
                else:
                    state[nxt] = 1
                    stack.append((nxt, iter(sorted(self.files[nxt].imports))))
        return order

    def write_jsonl(self, path: Path) -> None:
        with atomic_writer(path) as f:
            for p in self.topological_order():
                f.write(json.dumps(self.files[p].to_json(), ensure_ascii=False) + "\n")

    @classmethod
    def read_jsonl(cls, path: Path) -> Corpus:
        with open(path, encoding="utf-8") as f:
            return cls(CorpusFile.from_json(json.loads(line)) for line in f if line.strip())
