"""Message catalogues, English and Simplified Chinese, chosen by ``?lang=``, then the ``ebl_lang``
cookie (the switch sets it), then the browser's ``Accept-Language``. Each page keeps its own strings in
``catalogues/<lang>.<page>.json``."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import Request

LANGUAGES = ("en", "zh-Hans")

_FOLDER = Path(__file__).parent / "catalogues"


def _catalogue(lang: str) -> dict[str, str]:
    """``<lang>.json`` and then every page's own ``<lang>.<page>.json``, merged (a key defined twice is a
    mistake, refused at import)."""
    merged: dict[str, str] = {}
    for path in [_FOLDER / f"{lang}.json", *sorted(_FOLDER.glob(f"{lang}.*.json"))]:
        part: dict[str, str] = json.loads(path.read_text("utf-8"))
        twice = merged.keys() & part.keys()
        if twice:
            raise ValueError(f"{path.name} defines again {sorted(twice)}")
        merged.update(part)
    return merged


CATALOGUES: dict[str, dict[str, str]] = {lang: _catalogue(lang) for lang in LANGUAGES}


def choose(request: Request) -> str:
    wanted = request.query_params.get("lang") or request.cookies.get("ebl_lang")
    if wanted in LANGUAGES:
        return wanted
    ranked: list[tuple[float, str]] = []
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        ranked.append((weight, tag.lower()))
    for _, tag in sorted(ranked, key=lambda r: -r[0]):
        if tag.startswith("zh") and not any(t in tag for t in ("hant", "-tw", "-hk", "-mo")):
            return "zh-Hans"
        if tag.startswith("en"):
            return "en"
    return "en"
