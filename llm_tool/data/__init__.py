"""Data: read labelled tables in any supported format, validate labels, split, and analyse the texts."""
