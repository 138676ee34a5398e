"""The registry's records as they travel: the problem codes (:mod:`registry.records.problems`)."""
