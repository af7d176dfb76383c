"""The vocabulary of devolve: periods, money, dated parameters, scenarios, records and errors.

Nothing in this package reads a file or a database.
"""
