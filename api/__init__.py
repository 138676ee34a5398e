"""FastAPI gateway for carriers, holders, banks and auditors (built on :mod:`registry`)."""
