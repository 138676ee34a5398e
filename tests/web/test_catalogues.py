"""Every visible string in both languages: each page's catalogue has the same keys in English and
Simplified Chinese, every ``t.<key>`` a template names exists, and every action has its words."""

from __future__ import annotations

import json
import re

from api.web import i18n
from registry.chain.build import project_root
from registry.types import Action

WEB = project_root() / "api" / "web"


def test_each_catalogue_has_the_same_keys_in_both_languages() -> None:
    for english in sorted((WEB / "catalogues").glob("en*.json")):
        chinese = english.with_name("zh-Hans" + english.name[2:])
        assert chinese.exists(), f"{chinese.name} is missing"
        en, zh = (json.loads(p.read_text("utf-8")) for p in (english, chinese))
        assert en.keys() == zh.keys(), (english.name, en.keys() ^ zh.keys())
        assert all(isinstance(v, str) and v.strip() for v in [*en.values(), *zh.values()]), english.name


def test_every_key_a_template_names_is_in_the_catalogues() -> None:
    named: set[str] = set()
    for template in (WEB / "templates").glob("*.html"):
        named |= set(re.findall(r"\bt\.([a-z_]+)\b", template.read_text("utf-8"))) - {"get"}
    for lang in i18n.LANGUAGES:
        assert named <= i18n.CATALOGUES[lang].keys(), (lang, named - i18n.CATALOGUES[lang].keys())


def test_every_action_has_its_words_on_the_timeline() -> None:
    for lang in i18n.LANGUAGES:
        missing = [a.dcsa_code for a in Action if f"tl_act_{a.dcsa_code}" not in i18n.CATALOGUES[lang]]
        assert not missing, (lang, missing)
