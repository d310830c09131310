"""Command line: a thin shell over the library (no clinical logic here)."""
