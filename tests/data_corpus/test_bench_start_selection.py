"""Which theorems `scripts/bench_start.py` starts: `--files`, `--sample-files` (whole files, so a sample does not
replay most of the corpus's files for one theorem each) and `--sample`."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from proofsmith.envs.base import TheoremRef

REPO = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_start", REPO / "scripts" / "bench_start.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _bench()


def _items(bench, files: int = 10, per_file: int = 5):
    ref = TheoremRef.from_statement("Lemma t : True.", "t")
    return [
        bench.Item(f"F{f}.t{i}", f"Lib/F{f}.v", (i + 1, 1), "novel_packages/train", ref, None)
        for f in range(files)
        for i in range(per_file)
    ]


def test_sample_files_takes_every_theorem_of_the_chosen_files(bench):
    items = _items(bench)
    chosen = bench.select_items(items, "", 3, 0, seed=1)
    paths = {it.file_path for it in chosen}
    assert len(paths) == 3 and len(chosen) == 15
    assert chosen == bench.select_items(items, "", 3, 0, seed=1)  # fixed by the seed


def test_files_keeps_only_the_named_files_and_refuses_an_unknown_one(bench):
    items = _items(bench)
    chosen = bench.select_items(items, "Lib/F2.v, Lib/F7.v", 0, 0, seed=0)
    assert {it.file_path for it in chosen} == {"Lib/F2.v", "Lib/F7.v"} and len(chosen) == 10
    with pytest.raises(SystemExit, match="no traced theorem in Lib/F99.v"):
        bench.select_items(items, "Lib/F2.v,Lib/F99.v", 0, 0, seed=0)


def test_sample_draws_theorems_and_no_selection_keeps_all(bench):
    items = _items(bench)
    assert len(bench.select_items(items, "", 0, 7, seed=0)) == 7
    assert bench.select_items(items, "", 0, 0, seed=0) == items
