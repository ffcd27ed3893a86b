"""proofsmith: prover."""
