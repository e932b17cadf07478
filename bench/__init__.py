"""Benchmarks of deconv-widgets against what a teacher would write by hand (see run.py)."""
