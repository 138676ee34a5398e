"""The web pages over HTTP: headers, the session cookie, CSRF refusal, languages, and the verify
answers, each the same as the /v1 API's."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.api.helpers import Stages, carrier_document, new_document, ok
from tests.web.conftest import XSS, csrf_of, signed_in


def test_every_web_response_carries_the_security_headers(gateway: Any) -> None:
    for path in ("/web/sign-in", "/web/static/web.css", "/web/static/htmx.min.js", "/web/verify"):
        r = httpx.get(gateway.url + path)
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"


def test_the_pages_have_no_inline_script_and_stay_light(gateway: Any, members: Any) -> None:
    with signed_in(gateway.url, members["bank"].token) as web:
        page = web.get("/web/verify").text
        assert "<script>" not in page and " on" + "click=" not in page
        weight = len(page.encode()) + sum(
            len(web.get(f"/web/static/{name}").content) for name in ("web.css", "htmx.min.js", "drop.js")
        )
        assert weight < 300 * 1024


def _sign_in(client: httpx.Client, credential: str, **headers: str) -> httpx.Response:
    """The sign-in form as a browser posts it: its token from the sign-in page, its cookies."""
    token = csrf_of(client.get("/web/sign-in").text)
    return client.post("/web/sign-in", data={"credential": credential, "csrf": token}, headers=headers)


def test_verify_needs_sign_in_and_a_bad_credential_is_refused(gateway: Any) -> None:
    r = httpx.get(gateway.url + "/web/verify")
    assert r.status_code == 303 and r.headers["location"] == "/web/sign-in"
    with httpx.Client(base_url=gateway.url) as client:
        r = _sign_in(client, "ebl_nope.nope")
        assert r.status_code == 401 and "ebl_session" not in r.headers.get("set-cookie", "")


def test_the_session_cookie_is_sealed_httponly_strict_and_shows_who_you_act_as(
    gateway: Any, members: Any
) -> None:
    with httpx.Client(base_url=gateway.url) as client:
        r = _sign_in(client, members["bank"].token)
        assert r.status_code == 303
        cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("ebl_session=")).lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/web" in cookie
        assert "max-age=" in cookie
        sealed = client.cookies["ebl_session"]
    # the browser never holds the API credential: the cookie is not it, and /v1 refuses it as a bearer
    assert members["bank"].token not in sealed
    assert (
        httpx.get(gateway.url + "/v1/operations/x", headers={"Authorization": f"Bearer {sealed}"}).status_code
        == 401
    )
    # an altered cookie is no session
    with httpx.Client(base_url=gateway.url, cookies={"ebl_session": sealed[:-4] + "AAAA"}) as forged:
        assert forged.get("/web/verify").headers["location"] == "/web/sign-in"
    with signed_in(gateway.url, members["bank"].token) as web:
        page = web.get("/web/verify").text
        assert 'id="acting-as">Bank Ltd (bank, LEI LEI:API-BANK)' in page
        r = web.post("/web/sign-out", data={"csrf": csrf_of(page)})
        assert r.status_code == 303
        assert web.get("/web/verify").headers["location"] == "/web/sign-in"


def test_sign_in_needs_its_own_pages_token_so_no_other_site_can_sign_you_in(
    gateway: Any, members: Any
) -> None:
    bank = members["bank"].token
    with httpx.Client(base_url=gateway.url) as client:  # a cross-site form: no pre-session cookie, no token
        r = client.post("/web/sign-in", data={"credential": bank})
        assert r.status_code == 403 and "ebl_session" not in r.headers.get("set-cookie", "")
        r = client.post("/web/sign-in", data={"credential": bank, "csrf": "0" * 64})
        assert r.status_code == 403
        assert _sign_in(client, bank, **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
        assert _sign_in(client, bank, Origin="https://evil.example").status_code == 403
        assert _sign_in(client, bank).status_code == 303


def test_a_form_without_the_csrf_token_or_from_another_origin_is_refused(
    gateway: Any, members: Any, stages: Stages
) -> None:
    ebl = stages.issued()
    with signed_in(gateway.url, members["bank"].token) as web:
        csrf = csrf_of(web.get("/web/verify").text)
        r = web.post("/web/verify", data={"ebl_id": ebl})
        assert r.status_code == 403 and 'id="verdict"' not in r.text and 'id="status"' not in r.text
        r = web.post("/web/verify", data={"ebl_id": ebl, "csrf": "0" * 64})
        assert r.status_code == 403
        r = web.post(
            "/web/verify", data={"ebl_id": ebl, "csrf": csrf}, headers={"Origin": "https://evil.example"}
        )
        assert r.status_code == 403 and 'id="status"' not in r.text
        r = web.post("/web/sign-out", data={})
        assert r.status_code == 403
        assert web.post("/web/verify", data={"ebl_id": ebl, "csrf": csrf}).status_code == 200


def test_verify_answers_matches_does_not_match_and_no_such_ebl(gateway: Any, members: Any) -> None:
    document = carrier_document(new_document("W"), "carrier")
    with gateway.client(members["carrier"].token) as c:
        body = {"document": document, "issueTo": members["shipper"].org}
        ebl = str(ok(c.post("/v1/carriers/ebls", json=body), 201)["eblId"])
    with gateway.client(members["bank"].token) as bank:
        api = ok(bank.get(f"/v1/banks/ebls/{ebl}/verification"))
    presented = json.dumps(dict(reversed(list(document.items()))), indent=1)
    with signed_in(gateway.url, members["bank"].token) as web:
        csrf = csrf_of(web.get("/web/verify").text)
        page = web.post("/web/verify", data={"csrf": csrf, "document": presented}).text
        assert 'id="verdict">MATCHES<' in page
        assert f'id="status" class="status">{api["status"]}<' in page
        assert "Shipper Ltd" in page and "LEI LEI:API-SHIPPER" in page and "Carrier Ltd" in page
        assert f'id="document-hash">{api["documentHash"]}<' in page

        altered = json.dumps({**document, "issueDate": "2024-01-03"})
        page = web.post("/web/verify", data={"csrf": csrf, "ebl_id": ebl, "document": altered}).text
        assert 'id="verdict">DOES NOT MATCH<' in page
        assert f'id="document-hash">{api["documentHash"]}<' in page
        assert 'id="presented-hash">' in page and f'id="presented-hash">{api["documentHash"]}<' not in page

        page = web.post("/web/verify", data={"csrf": csrf, "ebl_id": "9" * 20}).text
        assert 'id="verdict">NO SUCH eBL<' in page

        r = web.post("/web/verify/attestation", data={"csrf": csrf, "ebl_id": ebl})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/jose")
        assert "attachment" in r.headers["content-disposition"] and r.text.count(".") == 2


def test_the_page_follows_the_browser_language_and_the_switch(gateway: Any, members: Any) -> None:
    with signed_in(gateway.url, members["bank"].token) as web:
        assert "核验" in web.get("/web/verify", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
        assert 'lang="en"' in web.get("/web/verify", headers={"Accept-Language": "en-GB"}).text
        assert 'lang="zh-Hans"' in web.get("/web/verify?lang=zh-Hans").text
        assert 'lang="zh-Hans"' in web.get("/web/verify", headers={"Accept-Language": "en"}).text


def test_document_fields_are_rendered_as_text(gateway: Any, members: Any, xss_ebl: Any) -> None:
    ebl, document = xss_ebl
    with signed_in(gateway.url, members["bank"].token) as web:
        csrf = csrf_of(web.get("/web/verify").text)
        for fields in ({"document": json.dumps(document)}, {"ebl_id": XSS}, {"ebl_id": ebl, "document": XSS}):
            page = web.post("/web/verify", data={"csrf": csrf, **fields}).text
            assert "<script>window.__xss" not in page and "<img src=x" not in page
            assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in page
