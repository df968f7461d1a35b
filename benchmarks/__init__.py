"""Benchmarks of pytest-xgen (issue "Performance"): one module per row, run by ``run.py``.

Each ``bN_<name>.py`` module exposes ``ROW``, ``WHAT``, ``TARGET`` and ``run(reps) -> dict``
and runs alone with ``python -m benchmarks.bN_<name> [--reps N]``. Nothing here is imported
by the plugin; vcrpy (the ``bench`` extra) is needed by B2 only.
"""
