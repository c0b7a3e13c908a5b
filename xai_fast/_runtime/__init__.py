"""Process-level runtime helpers: chunk workers (:mod:`.chunk_workers`), progress bars
(:mod:`.progress`) and BLAS thread limits (:mod:`.blas`)."""
