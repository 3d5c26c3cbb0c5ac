"""Benchmark scripts (run as files) and the GPU check (``python -m benchmarks.gpu_check``).

A regular package, so no installed package named ``benchmarks`` can shadow it.
"""
