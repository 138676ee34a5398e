"""Revisions of the registry store schema."""
