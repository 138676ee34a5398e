"""Operator tooling that writes deployment files; nothing here runs inside the registry."""
