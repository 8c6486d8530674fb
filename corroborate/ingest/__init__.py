"""Ingest: discover sources, fetch politely, extract text, the outlet registry and its health."""
