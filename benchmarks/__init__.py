"""crmkit's benchmarks: each module measures one area and prints ratios taken in one run.

Run one with ``python -m benchmarks NAME [options]``; ``python -m benchmarks smoke`` runs
every benchmark at a tiny size to prove it still works (CI does this).
"""
