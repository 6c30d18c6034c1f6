"""Querysets compiled to SQL once per process: see `compiled_queries.prepared`.

Imports no app of this project; the statements it compiles are declared beside
their app's other reads (`parties/queries.py`, `accounts/queries.py`)."""
