"""Shared tail of the backends' `verify` subcommands: run verify, print the verdict as JSON, exit status."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from proofsmith.envs.base import EnvError, Environment, ProverNotInstalledError, TheoremRef


def verify_and_report(make_env: Callable[[], Environment], theorem: TheoremRef, proof: Sequence[str]) -> int:
    """0 verified, 1 rejected, 2 prover missing or failing."""
    try:
        with make_env() as env:
            verdict = env.verify(theorem, list(proof))
    except ProverNotInstalledError as e:
        print(str(e))
        return 2
    except EnvError as e:
        print(f"error: {e}")
        return 2
    print(
        json.dumps(
            {
                "theorem": verdict.theorem,
                "verified": verdict.verified,
                "reasons": list(verdict.reasons),
                "axioms": list(verdict.axioms),
                "seconds": round(verdict.seconds, 3),
            }
        )
    )
    return 0 if verdict.verified else 1
