"""Benchmarks and the data generator they share (run each with ``python -m bench.<name>``)."""
