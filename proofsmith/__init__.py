"""proofsmith: machine-learning theorem proving.

Stages, as ReProver lays them out: `proofsmith.envs` (proof environments), `proofsmith.retrieval`,
`proofsmith.mutation`, `proofsmith.training`, `proofsmith.prover`, the shared data model `proofsmith.dataset`,
and the `proofsmith.cli` command.
"""

__version__ = "0.1.0"
