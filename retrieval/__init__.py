"""proofsmith: retrieval."""
