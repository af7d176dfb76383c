"""Engines: pure computations over a validated, immutable :class:`~devolve.domain.records.Deal`.

Each engine lives in its own package (``places``, ``allocate``, ``forecast``, ...), reads no files
and no databases, and returns Polars tables plus a small typed summary. Services combine them with
loading and data; interfaces call the services.
"""
