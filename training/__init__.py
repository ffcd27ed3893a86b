"""proofsmith: training."""
