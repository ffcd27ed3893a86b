"""proofsmith: the dataset.

The one data model shared by tracing, retrieval, training, mutation and search: LeanDojo Benchmark 4
records (`schema`), the premise corpus (`corpus`), the splits (`splits`), reading and writing a
dataset directory and its `datasets` view (`loading`), crash-safe writes (`files`), and the reader
for a downloaded LeanDojo benchmark (`leandojo`).
"""
