"""Official data sources: the registry, where files live (the data folder and its cache), and readers.

Readers turn an official file into a tidy Polars table; nothing here knows about deals.
"""
