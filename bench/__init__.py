"""Sarabun's benchmark: `make bench` (BENCH_QUICK=1 for a run of a few minutes). Not a test."""
