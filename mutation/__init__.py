"""proofsmith: mutation."""
