"""The holder's inbox over HTTP against a real gateway: the three lists, the confirmation wording, every
action through to final on chain (checked afterwards over /v1), CSRF refusal, and the API's problem
when a member acts on a bill it does not hold."""

from __future__ import annotations

import html
import json
import re
import time
from typing import Any

import httpx
import pytest

from registry.chain.build import project_root
from tests.api.helpers import Stages, ok
from tests.web.conftest import XSS, csrf_of, signed_in


def _text(response: httpx.Response) -> str:
    """The page's text, markup left out and entities read, for wording checks."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text)))


def _state(stages: Stages, ebl: str) -> dict[str, Any]:
    """The bill's title state from /v1 (the bank verifies it)."""
    return dict(ok(stages.client("bank").get(f"/v1/banks/ebls/{ebl}/verification")))


def _bill_ids(web: httpx.Client, view: str, limit: int = 100) -> list[str]:
    """Every eBL id of one inbox view, following its Next page links."""
    ids: list[str] = []
    url: str | None = f"/web/inbox?view={view}&limit={limit}"
    while url:
        page = web.get(url)
        assert page.status_code == 200, page.text
        ids += re.findall(r'<tr id="bill-(\d+)"', page.text)
        found = re.search(r'href="([^"]+)" id="next"', page.text)
        url = html.unescape(found.group(1)) if found else None
    return ids


def _act(web: httpx.Client, ebl: str, action: str, **choice: str) -> httpx.Response:
    """The confirm page of the action with ``choice``, then its Confirm form posted."""
    confirm = web.get(f"/web/inbox/ebls/{ebl}/{action}", params=choice)
    assert confirm.status_code == 200 and 'id="confirm-form"' in confirm.text, confirm.text
    return web.post(f"/web/inbox/ebls/{ebl}/{action}", data={"csrf": csrf_of(confirm.text), **choice})


def _through_to_final(web: httpx.Client, posted: httpx.Response) -> httpx.Response:
    """Follow a confirmed action to its operation page and poll its fragment until it is final."""
    assert posted.status_code == 303, posted.text
    location = posted.headers["location"]
    assert location.startswith("/web/inbox/operations/")
    page = web.get(location)
    assert page.status_code == 200 and 'id="operation"' in page.text
    for _ in range(600):
        fragment = web.get(location + "/status")
        status = re.search(r'data-status="(\w+)"', fragment.text)
        assert status, fragment.text
        if status.group(1) in ("final", "failed"):
            assert "hx-trigger" not in fragment.text and 'id="refresh"' not in fragment.text
            assert status.group(1) == "final", fragment.text
            return web.get(location)
        assert 'hx-trigger="every 1s"' in fragment.text and 'id="refresh"' in fragment.text
        time.sleep(0.1)
    raise AssertionError("the operation never became final")


def test_held_awaiting_and_former_lists_show_the_bills_with_legal_names(
    gateway: Any, members: Any, stages: Stages
) -> None:
    ebl = stages.transferred()  # issued to the shipper, transferred to the consignee
    with signed_in(gateway.url, members["consignee"].token) as web:
        held = web.get("/web/inbox")
        assert held.status_code == 200 and f'id="bill-{ebl}"' in held.text
        row = _text(held).split(ebl, 1)[1]
        assert "Consignee Ltd" in row and "ACTIVE" in row
        awaiting = web.get("/web/inbox?view=awaiting")
        assert f'id="why-{ebl}"' in awaiting.text
        assert "Transferred to you: you may reject it" in _text(awaiting)
        assert f'href="/web/inbox/ebls/{ebl}/reject"' in awaiting.text
        assert ebl not in _bill_ids(web, "former")
    with signed_in(gateway.url, members["shipper"].token) as web:
        assert ebl in _bill_ids(web, "former") and ebl not in _bill_ids(web, "held")
        former = web.get("/web/inbox?view=former").text
        assert 'href="/web/inbox/ebls/' not in former  # nothing to act on in bills handed on
    with signed_in(gateway.url, members["bank"].token) as web:
        assert ebl not in _bill_ids(web, "held") + _bill_ids(web, "awaiting") + _bill_ids(web, "former")


def test_the_lists_are_paginated_with_next_page_links(gateway: Any, members: Any, stages: Stages) -> None:
    issued = [stages.issued(to="bank") for _ in range(3)]
    with signed_in(gateway.url, members["bank"].token) as web:
        whole = _bill_ids(web, "held")
        assert [e for e in whole if e in issued] == issued[::-1]  # newest issuance first
        assert _bill_ids(web, "held", limit=1) == whole
        assert 'id="next"' in web.get("/web/inbox?view=held&limit=1").text
        page = ok(stages.client("bank").get("/v1/members/ebls", params={"view": "held", "limit": 1}))
        assert f'id="bill-{page["items"][0]["eblId"]}"' in web.get("/web/inbox?view=held&limit=1").text


def test_the_counterparty_is_chosen_from_the_member_directory(
    gateway: Any, members: Any, stages: Stages
) -> None:
    ebl = stages.issued()
    with signed_in(gateway.url, members["shipper"].token) as web:
        for action in ("transfer", "endorse"):
            page = web.get(f"/web/inbox/ebls/{ebl}/{action}")
            assert page.status_code == 200 and 'id="choose-form"' in page.text
            assert (
                f'<option value="{members["bank"].org}">Bank Ltd · LEI:API-BANK · bank</option>' in page.text
            )
            assert f'<option value="{members["shipper"].org}"' not in page.text  # not itself


def test_each_confirmation_says_in_plain_words_what_happens_to_title(
    gateway: Any, members: Any, stages: Stages
) -> None:
    ebl = stages.issued()
    bank = members["bank"].org
    expected = {
        (
            "transfer",
            ("party", bank),
        ): "Title passes to Bank Ltd (LEI:API-BANK). You will no longer hold this bill.",
        ("endorse", ("party", bank), ("mode", "to_order")): "Bank Ltd (LEI:API-BANK) becomes the endorsee, "
        "to order: it may endorse the bill on. You still hold the bill",
        (
            "endorse",
            ("party", bank),
            ("mode", "named"),
        ): "Bank Ltd (LEI:API-BANK) becomes the named endorsee: it may not endorse the bill on.",
        (
            "endorse-in-blank",
        ): "The bill becomes a bearer bill: no endorsee is named, and whoever holds it has title.",
        (
            "reject",
        ): "Title goes back to the organisation that transferred it to you. You will no longer hold "
        "this bill.",
        ("surrender", ("reason", "DELIVERY")): "The bill goes to its issuing carrier, Carrier Ltd "
        "(LEI:API-CARRIER), to deliver the goods. You will no longer hold this bill",
        ("surrender", ("reason", "COD")): "Reason: For amendment: change of destination (COD).",
    }
    with signed_in(gateway.url, members["shipper"].token) as web:
        for (action, *choice), words in expected.items():
            page = web.get(f"/web/inbox/ebls/{ebl}/{action}", params=dict(choice))
            assert page.status_code == 200 and 'id="says"' in page.text, page.text
            assert words in _text(page), (action, _text(page))
        zh = web.get(f"/web/inbox/ebls/{ebl}/transfer", params={"party": bank, "lang": "zh-Hans"})
        assert "物权转移给 Bank Ltd (LEI:API-BANK)。您将不再持有此提单。" in _text(zh)
    assert _state(stages, ebl)["holder"]["address"] == members["shipper"].org  # confirming wrote nothing


def test_transfer_endorse_and_reject_reach_the_chain(gateway: Any, members: Any, stages: Stages) -> None:
    ebl = stages.issued()
    bank, consignee = members["bank"].org, members["consignee"].org
    with signed_in(gateway.url, members["shipper"].token) as web:
        final = _through_to_final(web, _act(web, ebl, "endorse", party=bank, mode="to_order"))
        assert "Shipper Ltd" in _text(final).split("Now held by", 1)[1]
        assert _state(stages, ebl)["endorsee"]["address"] == bank
        final = _through_to_final(web, _act(web, ebl, "transfer", party=bank))
        assert "Bank Ltd" in _text(final).split("Now held by", 1)[1]
    assert _state(stages, ebl)["holder"]["address"] == bank
    with signed_in(gateway.url, members["bank"].token) as web:
        _through_to_final(web, _act(web, ebl, "endorse", party=consignee, mode="named"))
        assert _state(stages, ebl)["endorsee"]["address"] == consignee
        _through_to_final(web, _act(web, ebl, "transfer", party=consignee))
    assert _state(stages, ebl)["holder"]["address"] == consignee
    with signed_in(gateway.url, members["consignee"].token) as web:
        _through_to_final(web, _act(web, ebl, "reject"))
    assert _state(stages, ebl)["holder"]["address"] == bank  # back to the sender


def test_endorse_in_blank_and_surrender_reach_the_chain(gateway: Any, members: Any, stages: Stages) -> None:
    ebl = stages.issued()
    with signed_in(gateway.url, members["shipper"].token) as web:
        _through_to_final(web, _act(web, ebl, "endorse-in-blank"))
        assert _state(stages, ebl)["blankEndorsed"] is True
        _through_to_final(web, _act(web, ebl, "surrender", reason="DELIVERY"))
    after = _state(stages, ebl)
    assert after["holder"]["address"] == members["carrier"].org and after["status"] == "SURRENDER_REQUESTED"
    with signed_in(gateway.url, members["carrier"].token) as web:
        assert "Surrender requested" in _text(web.get("/web/inbox?view=awaiting"))


def test_an_action_without_the_csrf_token_or_from_another_origin_is_refused(
    gateway: Any, members: Any, stages: Stages
) -> None:
    ebl = stages.issued()
    bank = members["bank"].org
    with signed_in(gateway.url, members["shipper"].token) as web:
        csrf = csrf_of(web.get(f"/web/inbox/ebls/{ebl}/transfer", params={"party": bank}).text)
        path = f"/web/inbox/ebls/{ebl}/transfer"
        assert web.post(path, data={"party": bank}).status_code == 403
        assert web.post(path, data={"party": bank, "csrf": "0" * 64}).status_code == 403
        evil = web.post(path, data={"party": bank, "csrf": csrf}, headers={"Origin": "https://evil.example"})
        assert evil.status_code == 403 and "location" not in evil.headers
    assert _state(stages, ebl)["holder"]["address"] == members["shipper"].org
    assert (
        httpx.post(gateway.url + f"/web/inbox/ebls/{ebl}/transfer", data={"party": bank}).status_code == 401
    )


def test_a_member_cannot_act_on_a_bill_it_does_not_hold_and_sees_the_apis_problem(
    gateway: Any, members: Any, stages: Stages
) -> None:
    ebl = stages.issued()
    consignee = members["consignee"].org
    direct = stages.client("bank").post(f"/v1/holders/ebls/{ebl}/transfer", json={"to": consignee})
    problem = direct.json()
    assert direct.status_code >= 400
    with signed_in(gateway.url, members["bank"].token) as web:
        refused = _act(web, ebl, "transfer", party=consignee)
        assert refused.status_code == direct.status_code and 'id="problem"' in refused.text
        assert f"{problem['title']}: {problem['detail']}" in _text(refused)
    assert _state(stages, ebl)["holder"]["address"] == members["shipper"].org


def test_unknown_operations_and_actions_and_signed_out_visits(gateway: Any, members: Any) -> None:
    with signed_in(gateway.url, members["shipper"].token) as web:
        missing = web.get("/web/inbox/operations/no-such-operation")
        assert missing.status_code == 404 and 'id="problem"' in missing.text
        assert web.get("/web/inbox/ebls/1/steal").status_code == 404
        assert 'href="/web/inbox"' in web.get("/web/verify").text  # the nav link
    for path in ("/web/inbox", "/web/inbox/ebls/1/transfer", "/web/inbox/operations/x"):
        r = httpx.get(gateway.url + path)
        assert r.status_code == 303 and r.headers["location"] == "/web/sign-in"


def test_organisation_names_full_of_markup_are_shown_as_text(
    gateway: Any, members: Any, stages: Stages, governance_token: str
) -> None:
    with gateway.client(governance_token) as gov:
        body = {"identifier": f"LEI:XSS-{time.time_ns()}", "name": XSS[:120], "role": "trader"}
        ok(gov.post("/v1/governance/organisations", json=body), 201)
    ebl = stages.issued()
    with signed_in(gateway.url, members["shipper"].token) as web:
        page = web.get(f"/web/inbox/ebls/{ebl}/transfer").text
        assert "<script>" not in page and "<img" not in page and "</textarea>" not in page
        assert XSS[:100] in html.unescape(page)  # shown literally, as text


def test_every_inbox_string_is_in_both_catalogues() -> None:
    folder = project_root() / "api" / "web" / "catalogues"
    en, zh = (json.loads((folder / f"{lang}.inbox.json").read_text("utf-8")) for lang in ("en", "zh-Hans"))
    assert en.keys() == zh.keys() and all(zh.values())
    used = set(
        re.findall(r"t\.(inbox\w*)", "".join(p.read_text() for p in folder.parent.glob("templates/inbox*")))
    )
    assert used <= en.keys()


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_the_inbox_answers_in_both_languages(gateway: Any, members: Any, lang: str) -> None:
    with signed_in(gateway.url, members["shipper"].token) as web:
        page = web.get(f"/web/inbox?lang={lang}")
        assert page.status_code == 200 and f'<html lang="{lang}">' in page.text
        assert ("我持有的" in page.text) == (lang == "zh-Hans")


def test_the_inbox_pages_have_no_inline_script_and_carry_the_security_headers(
    gateway: Any, members: Any, stages: Stages
) -> None:
    ebl = stages.issued()
    with signed_in(gateway.url, members["shipper"].token) as web:
        for path in ("/web/inbox", f"/web/inbox/ebls/{ebl}/transfer?party={members['bank'].org}"):
            page = web.get(path)
            assert "<script>" not in page.text and not re.search(r"\son[a-z]+=", page.text), path
            assert "frame-ancestors 'none'" in page.headers["content-security-policy"], path
            assert page.headers["x-frame-options"] == "DENY"
    templates = (project_root() / "api" / "web" / "templates").glob("inbox*")
    assert "|safe" not in "".join(p.read_text() for p in templates)  # every field is autoescaped text


def test_a_nomination_waits_for_the_holder_who_endorses_to_the_nominee(
    gateway: Any, members: Any, stages: Stages
) -> None:
    ebl = stages.issued()
    bank, consignee = members["bank"].org, members["consignee"].org
    stages.post("shipper", f"/v1/holders/ebls/{ebl}/endorse", {"endorsee": bank, "toOrder": True})
    stages.post("bank", f"/v1/holders/ebls/{ebl}/nominate", {"nominee": consignee})
    with signed_in(gateway.url, members["shipper"].token) as web:
        awaiting = web.get("/web/inbox?view=awaiting")
        assert "The endorsee nominated a party: endorse to it" in _text(awaiting)
        link = f'href="/web/inbox/ebls/{ebl}/endorse?party={consignee}"'
        assert link in awaiting.text  # the nominee comes chosen
        confirm = web.get(f"/web/inbox/ebls/{ebl}/endorse", params={"party": consignee})
        assert "Consignee Ltd (LEI:API-CONSIGNEE) becomes the endorsee, to order" in _text(confirm)
        _through_to_final(web, _act(web, ebl, "endorse", party=consignee, mode="to_order"))
    assert _state(stages, ebl)["endorsee"]["address"] == consignee
