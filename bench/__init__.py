"""Benchmarks of Moneta's hot paths: `python -m bench [name ...]`, see docs/benchmarks.md."""
