"""The ``crmkit`` command: a thin layer over the library, one module per command group.

Each command opens the store named by ``--db`` (or ``CRMKIT_DB``, or the demo's file), makes
one call of the public API, and prints the result as a table, CSV or JSON. Only crmkit's own
errors are caught, and they become a one-line message and exit code 1. Needs the ``cli``
extra (Typer and Rich): ``pip install "crmkit[cli]"``.
"""
