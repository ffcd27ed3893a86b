"""How `scripts/bench_search.py` counts proofs: steps besides a bare `intros`, and `auto`'s closers."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_search", REPO / "scripts" / "bench_search.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_search"] = module
    spec.loader.exec_module(module)
    return module


def test_a_bare_intros_is_not_a_step_of_work():
    b = _bench()
    assert b.steps_besides_intros(["intros.", "nra."]) == 1
    assert b.steps_besides_intros(["intros x y H.", "destruct x; nia.", "lra."]) == 2
    assert b.steps_besides_intros(["intros; lra."]) == 1  # one sentence
    assert b.steps_besides_intros(["intro.", "intros H'.", "exact H'."]) == 1


def test_auto_closers_alone_are_not_beyond_auto():
    b = _bench()
    assert b.is_auto_closer(["intros; nra."]) and b.is_auto_closer(["lra."])
    assert not b.is_auto_closer(["intros.", "nra."]) and not b.is_auto_closer(["psatz R 2."])
