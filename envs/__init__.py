"""proofsmith: envs."""
