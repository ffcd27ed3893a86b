"""Soak (short): 1,000 random tactic calls with backtracking on one Coq session."""

from __future__ import annotations

from .soak import run_soak

RSS_BOUND_MIB = 1024  # coqidetop RSS after 1,000 calls; the env recycles above 2 GiB anyway


def test_soak_coq_session_1000_calls():
    r = run_soak(1000, seed=1)
    assert r.errors == 0 and r.restarts == 0, r
    assert r.rss_end_mib < RSS_BOUND_MIB, r
    assert r.latency_last_ms < 3 * r.latency_first_ms + 5, r  # no drift
    assert r.children_during == r.children_before + 1  # exactly one coqidetop while open
    assert r.children_after == r.children_before, r  # and none left after close
    assert {"TacticState", "TacticError", "ProofFinished", "TacticRefused", "ProofGivenUp"} <= set(r.outcomes)
