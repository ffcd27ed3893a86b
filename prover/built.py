"""The best prover this project has measured, as built on this machine by `make prover`.

`make prover` (scripts/build_prover.py) traces the competition-mathematics libraries, builds the
k-NN tactic index and writes `runs/prover/prover.json`: the generator spec and premise corpus of
the best configuration in the benchmark tables (and its search frontier) (docs/benchmarks.md). `proofsmith prove` without
`--generator` uses it; with nothing built it falls back to `auto` and says so in one line.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

# Where `make prover` writes, relative to the directory the command runs in; PROOFSMITH_PROVER overrides.
PROVER_DIR = Path("runs/prover")
PROVER_FILE = "prover.json"
FALLBACK_GENERATOR = "auto"


@dataclass(frozen=True)
class BuiltProver:
    generator: str  # a generator spec (prover/generators/factory.py)
    premises: str | None  # a premise corpus for retrieval inside search (prove --premises)
    source: Path  # the prover.json it was read from
    note: str = ""  # what the choice rests on (the measured row)
    frontier: str = "node"  # the search frontier it was measured with (prover.search.Frontier)


def prover_dir() -> Path:
    return Path(os.environ.get("PROOFSMITH_PROVER", PROVER_DIR))


def load_built(directory: Path | None = None) -> BuiltProver | None:
    """The built prover, or None when none is built or what it names is gone (then `auto` is used)."""
    path = (directory or prover_dir()) / PROVER_FILE
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text())
        generator, premises = str(info["generator"]), info.get("premises")
    except (ValueError, KeyError, TypeError):
        return None
    if premises is not None and not Path(premises).exists():
        return None
    return BuiltProver(generator, premises, path, str(info.get("note", "")), str(info.get("frontier", "node")))


def write_built(directory: Path, generator: str, premises: str | None, note: str, frontier: str = "node") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / PROVER_FILE
    info = {"generator": generator, "premises": premises, "frontier": frontier, "note": note}
    path.write_text(json.dumps(info, indent=1) + "\n")
    return path
