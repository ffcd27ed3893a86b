"""Read a downloaded LeanDojo Benchmark 4 (`leandojo_benchmark_4/`) into proofsmith's dataset types.

The layout is the one in docs/specs/leandojo-interface.md (b): `corpus.jsonl`, `metadata.json`,
`random/` and `novel_premises/` with `train/val/test.json`. Records are read leniently (a missing
`start`/`end` or `annotated_tactic` is tolerated), so excerpts and partial exports load too;
`backend` is set to "lean".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proofsmith.dataset.corpus import Corpus
from proofsmith.dataset.loading import to_dataset_dict
from proofsmith.dataset.schema import CorpusFile, Premise, TheoremRecord
from proofsmith.dataset.splits import SPLIT_NAMES, SPLIT_STRATEGIES

BACKEND = "lean"


def theorem_from_leandojo(d: dict[str, Any]) -> TheoremRecord:
    """One element of `<strategy>/<split>.json`."""
    return TheoremRecord.from_json(d, backend=BACKEND)


def corpus_file_from_leandojo(d: dict[str, Any]) -> CorpusFile:
    """One `corpus.jsonl` line. Premises ReProver would drop (no name, empty code) are dropped."""
    f = CorpusFile.from_json(d)
    keep = tuple(
        p
        for p in f.premises
        if p.full_name and p.code and "user__.n" not in p.full_name and not p.full_name.startswith("[")
    )
    return CorpusFile(f.path, f.imports, keep)


@dataclass
class LeanDojoBenchmark:
    root: Path
    metadata: dict = field(default_factory=dict)
    splits: dict[str, dict[str, list[TheoremRecord]]] = field(default_factory=dict)  # strategy → split → records
    corpus: Corpus | None = None

    def dataset_dict(self, strategy: str = "random"):
        """The `datasets.DatasetDict` of one split strategy (same features as traced Coq data)."""
        return to_dataset_dict(self.splits[strategy])

    def premises(self) -> list[Premise]:
        return [p for f in (self.corpus.files.values() if self.corpus else ()) for p in f.premises]


def load_benchmark(
    root: Path, strategies: tuple[str, ...] = SPLIT_STRATEGIES, with_corpus: bool = True
) -> LeanDojoBenchmark:
    """Load what is present under `root`; a missing strategy or split is simply absent."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no LeanDojo benchmark at {root} (download leandojo_benchmark_4 and unpack it)")
    bench = LeanDojoBenchmark(root)
    meta = root / "metadata.json"
    if meta.is_file():
        bench.metadata = json.loads(meta.read_text(encoding="utf-8"))
    for strategy in strategies:
        for name in SPLIT_NAMES:
            path = root / strategy / f"{name}.json"
            if path.is_file():
                with open(path, encoding="utf-8") as f:
                    bench.splits.setdefault(strategy, {})[name] = [theorem_from_leandojo(d) for d in json.load(f)]
    corpus = root / "corpus.jsonl"
    if with_corpus and corpus.is_file():
        with open(corpus, encoding="utf-8") as f:
            bench.corpus = Corpus(corpus_file_from_leandojo(json.loads(line)) for line in f if line.strip())
    if not bench.splits and bench.corpus is None:
        raise FileNotFoundError(f"{root} has neither split files nor corpus.jsonl")
    return bench
