"""Claim checking backed by retrieval over a newsroom's own reference documents."""

__version__ = "0.1.0"
