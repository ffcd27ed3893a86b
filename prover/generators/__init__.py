"""Tactic generators: one protocol, several implementations."""

from proofsmith.prover.generators.automation import AutomationGenerator
from proofsmith.prover.generators.base import TacticGenerator, WholeProofGenerator
from proofsmith.prover.generators.ensemble import EnsembleGenerator

__all__ = ["TacticGenerator", "WholeProofGenerator", "AutomationGenerator", "EnsembleGenerator"]
