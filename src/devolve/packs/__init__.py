"""Deals as data: the built-in packs, the loader and validator, and the pack builders."""
