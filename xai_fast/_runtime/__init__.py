"""Process-level runtime helpers: BLAS thread limits (chunk workers and progress bars live in
``xai_fast._chunk_workers`` and ``xai_fast._progress``)."""
