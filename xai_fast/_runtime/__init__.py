"""Process-level runtime helpers: chunk workers (:mod:`.chunk_workers`), progress bars
(:mod:`.progress`), BLAS thread limits (:mod:`.blas`) and spare row buffers
(:mod:`.row_buffers`)."""
