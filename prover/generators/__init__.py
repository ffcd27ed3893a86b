"""Tactic generators: one protocol, several implementations."""
from prover.generators.automation import AutomationGenerator
from prover.generators.base import TacticGenerator, WholeProofGenerator
from prover.generators.ensemble import EnsembleGenerator

__all__ = ["TacticGenerator", "WholeProofGenerator", "AutomationGenerator", "EnsembleGenerator"]
