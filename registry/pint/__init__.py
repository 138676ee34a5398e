"""DCSA PINT 3.0 (Platform INTeroperability) as a pure library: no chain, no database, no HTTP.

* :mod:`~registry.pint.checksums` -- the SHA-256 checksums the YAML names (RFC 8785 JSON, compact JWS,
  raw bytes);
* :mod:`~registry.pint.codes` -- the response codes (``RECE`` ... ``DISE``) and the causes of a refused
  signature;
* :mod:`~registry.pint.envelope` -- pydantic models of the YAML's objects, field names as it spells them;
* :mod:`~registry.pint.signer` -- our platform's JWS signing key (``<data_dir>/pint/platform-key.jwk``);
* :mod:`~registry.pint.trust` -- the trust list of other platforms (JWK sets, optional X.509 anchors);
* :mod:`~registry.pint.build` -- the sender: an envelope from a document, its prior chain and new
  transactions;
* :mod:`~registry.pint.verify` -- the receiver: every check decidable from the envelope alone, and the
  signed finished response.

How we read the ambiguous parts of the specification: ``docs/pint.md``.
"""
