"""Benchmark harness: a deterministic corpus generator and `make bench` (see bench/run.py)."""
