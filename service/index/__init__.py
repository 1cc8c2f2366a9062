"""The reference index: reading source documents, splitting them into passages, the vector (FAISS)
and lexical (BM25) indexes over them, building an index directory and loading it."""
