"""The `devolve` command line (Typer + Rich)."""
