"""The corpus: the store, passages, embeddings, the vector index, dedup keys and the writer lock."""
