"""Reports people can open: one self-contained HTML file (Plotly bundled, works offline) and JSON."""
