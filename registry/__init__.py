"""eBL title registry: DCSA documents, signing keys, chain client, title service, indexer."""

from registry.errors import RegistryError

__all__ = ["RegistryError"]
__version__ = "0.1.0"
