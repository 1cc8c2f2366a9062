"""The web page at `/` in a real browser: Debian's chromium, driven by Playwright, against a real
`claimcheck serve`. `make test` installs both (Playwright's own browser download is never used)."""

from __future__ import annotations

import re
import shutil
from decimal import ROUND_HALF_UP, Decimal

import pytest
from conftest import NATO_DOC, REFUTED_CLAIM, SEED_TEXT

# The README's seed paragraph, then its refuted claim: one check shows all three verdict colours.
PARAGRAPH = SEED_TEXT + " " + REFUTED_CLAIM
CLAIMS = [
    ("Ukraine formally applied to join the US-led alliance in September 2022.", "not_enough_info", "rgb(110, 119, 129)"),
    (SEED_TEXT[72:208], "supported", "rgb(26, 127, 55)"),  # the Article 5 claim, at the README's offsets
    (REFUTED_CLAIM, "refuted", "rgb(207, 34, 46)"),
]
# The network is closed: without these, chromium waits on connections it will never get.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHECK_TIMEOUT_MS = 120_000


pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the Python package playwright is missing: `make test` installs it with the project's dev extra")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed: `make test` installs Debian's (apt-get install chromium); this test needs it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS, timeout=60_000)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto("/")
    yield opened
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def fixed(value: float) -> str:
    """A number as the page shows it: JavaScript's toFixed(2) rounds the exact binary value half up."""
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def overflow(page) -> int:
    """How many CSS pixels the page is wider than its viewport."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def assert_evidence_shown(page, claim: dict) -> None:
    """The evidence pane shows `claim` as the API answered it: verdict, confidence, and each passage
    with its document title, section, page (a PDF's), stance, scores, the highlighted sentence and, for a passage that
    does not decide the verdict, why."""
    from playwright.sync_api import expect

    details = page.locator("#details")
    expect(details.locator(".verdict")).to_have_text(f"{claim['verdict'].replace('_', ' ')} confidence {fixed(claim['confidence'])}")
    expect(details.locator(".verdict .badge")).to_have_class(re.compile(rf"\bb-{claim['verdict']}\b"))
    expect(details.locator("strong")).to_have_text(claim["claim"])
    rewritten = " ".join(claim["checked_as"].split()) != " ".join(claim["claim"].split())
    expect(details.get_by_text("Checked as: ")).to_have_count(1 if rewritten else 0)
    passages = details.locator(".evidence")
    expect(passages).to_have_count(len(claim["evidence"]))
    for number, evidence in enumerate(claim["evidence"]):
        shown = passages.nth(number)
        expect(shown).to_have_attribute("data-stance", evidence["stance"])
        expect(shown.locator(".badge")).to_have_text(evidence["stance"])
        title = evidence["title"] or evidence["doc_id"]
        expect(shown.locator(".source")).to_have_text(title)
        heading = f"{evidence['stance']} {title}" + (f" — {evidence['section']}" if evidence["section"] else "")
        heading += f" — p. {evidence['page']}" if evidence.get("page") else ""
        expect(shown.locator("p").first).to_have_text(heading)
        probs = evidence["stance_probs"]
        expect(shown.locator(".scores")).to_have_text(
            f"retrieval {fixed(evidence['retrieval_score'])} · supports {fixed(probs['supports'])} · refutes {fixed(probs['refutes'])}"
            f" · neutral {fixed(probs['neutral'])} · {evidence['doc_id']} [{evidence['start']}:{evidence['end']}]"
        )
        undecided = shown.locator(".undecided")  # a passage under a gate says so, and why
        expect(undecided).to_have_count(1 if evidence["decides"] is False else 0)
        if evidence["decides"] is False:
            expect(undecided).to_contain_text("Does not decide the verdict: ")
        if evidence["stance"] == "neutral":
            expect(shown.locator("mark")).to_have_count(0)
        elif evidence["sentence"] is not None:
            expect(shown.locator("mark")).to_have_text(evidence["sentence"]["text"])


def test_check_highlights_claims_and_shows_their_evidence(page):
    from playwright.sync_api import expect

    expect(page).to_have_title("claimcheck")
    assert overflow(page) <= 0
    page.fill("#text", PARAGRAPH)
    with page.expect_response("**/v1/check", timeout=CHECK_TIMEOUT_MS) as answered:
        page.click("#check")
        expect(page.locator("#check")).to_be_disabled()
        expect(page.locator("#status")).to_have_text("Checking…")
    assert answered.value.status == 200
    answer = answered.value.json()["claims"]
    expect(page.locator("#status")).to_have_text(re.compile(r"^3 claim\(s\) checked in \d+\.\d s\.$"))
    expect(page.locator("#check")).to_be_enabled()

    # The text comes back whole (the question is kept, but not as a claim), each claim highlighted in its verdict's colour.
    expect(page.locator("#annotated")).to_have_text(PARAGRAPH)
    highlighted = page.locator("#annotated .claim")
    expect(highlighted).to_have_count(len(CLAIMS))
    assert [(c["claim"], c["verdict"]) for c in answer] == [(text, verdict) for text, verdict, _ in CLAIMS]
    for number, (text, verdict, colour) in enumerate(CLAIMS):
        claim = highlighted.nth(number)
        expect(claim).to_have_text(text)
        expect(claim).to_have_attribute("data-verdict", verdict)
        expect(claim).to_have_class(re.compile(rf"\bv-{verdict}\b"))
        expect(claim).to_have_css("border-bottom-color", colour)
        expect(claim).to_have_attribute("aria-label", f"{verdict.replace('_', ' ')}: {text}")

    # The first claim is selected at once; a click opens another's evidence.
    expect(highlighted.nth(0)).to_have_class(re.compile(r"\bselected\b"))
    assert_evidence_shown(page, answer[0])
    highlighted.nth(1).click()
    expect(highlighted.nth(1)).to_have_class(re.compile(r"\bselected\b"))
    expect(highlighted.nth(0)).not_to_have_class(re.compile(r"\bselected\b"))
    assert_evidence_shown(page, answer[1])
    best = page.locator("#details .evidence").first
    expect(best).to_contain_text("North Atlantic Treaty — Article 5")
    expect(best.locator(".scores")).to_contain_text(NATO_DOC)
    expect(best.locator("mark")).to_contain_text("an armed attack against one or more of them in Europe or North America")

    # The keyboard alone: Tab from the button reaches the claims in order, Enter and Space open one.
    page.focus("#check")
    page.keyboard.press("Tab")
    expect(highlighted.nth(0)).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(highlighted.nth(2)).to_be_focused()
    page.keyboard.press("Enter")
    assert_evidence_shown(page, answer[2])
    conflicting = page.locator('#details .evidence[data-stance="refutes"]')
    expect(conflicting.first).to_contain_text("North Atlantic Treaty")
    expect(conflicting.first.locator("mark")).to_have_count(1)
    page.keyboard.press("Shift+Tab")
    expect(highlighted.nth(1)).to_be_focused()
    page.keyboard.press(" ")
    assert_evidence_shown(page, answer[1])
    assert page.evaluate("window.scrollY") == 0, "Space on a claim must not scroll the page"

    # At phone width the panes stack and nothing overflows sideways, results included.
    page.set_viewport_size({"width": 375, "height": 740})
    assert overflow(page) <= 0
    text_box = page.locator("#annotated").bounding_box()
    evidence_box = page.locator("#details").bounding_box()
    assert evidence_box["y"] >= text_box["y"] + text_box["height"], "the evidence pane should sit below the text at 375 px"
    assert evidence_box["x"] + evidence_box["width"] <= 375


def test_a_claim_rewritten_to_stand_alone_shows_what_was_checked(page):
    from playwright.sync_api import expect

    page.fill("#text", "These pacts are weaker than Article 5 of the NATO Charter, however, which stipulates that an attack against"
              " one member is an attack against all.")  # fmt: skip
    with page.expect_response("**/v1/check", timeout=CHECK_TIMEOUT_MS):
        page.click("#check")
    highlighted = page.locator("#annotated .claim")
    expect(highlighted.last).to_have_text("which stipulates that an attack against one member is an attack against all")
    highlighted.last.click()
    expect(page.locator("#details")).to_contain_text(
        "Checked as: Article 5 of the NATO Charter stipulates that an attack against one member is an attack against all."
    )


def test_document_title_links_to_its_url(page):
    """The shipped documents have no URL; the real answer is given one to show the link."""
    from playwright.sync_api import expect

    def add_url(route):
        response = route.fetch(timeout=CHECK_TIMEOUT_MS)
        body = response.json()
        for evidence in body["claims"][0]["evidence"]:
            evidence["url"] = f"https://example.org/{evidence['doc_id']}"
        route.fulfill(response=response, json=body)

    page.route("**/v1/check", add_url)
    page.fill("#text", REFUTED_CLAIM)
    page.click("#check")
    expect(page.locator("#status")).to_have_text(re.compile(r"^1 claim\(s\) checked"), timeout=CHECK_TIMEOUT_MS)
    link = page.locator("#details .evidence a.source").first
    expect(link).to_have_text(re.compile(r"North Atlantic Treaty|Charter of the United Nations"))
    expect(link).to_have_attribute("href", re.compile(r"^https://example\.org/\w+\.md$"))
    expect(link).to_have_attribute("rel", "noopener")


def test_pdf_evidence_shows_its_page(page):
    """The shipped documents are Markdown; the real answer is given the pages a PDF source would have."""
    from playwright.sync_api import expect

    answers = []

    def add_pages(route):
        response = route.fetch(timeout=CHECK_TIMEOUT_MS)
        body = response.json()
        for number, evidence in enumerate(body["claims"][0]["evidence"]):
            evidence["page"] = number + 3 if number % 2 == 0 else None
        answers.append(body)
        route.fulfill(response=response, json=body)

    page.route("**/v1/check", add_pages)
    page.fill("#text", REFUTED_CLAIM)
    page.click("#check")
    expect(page.locator("#status")).to_have_text(re.compile(r"^1 claim\(s\) checked"), timeout=CHECK_TIMEOUT_MS)
    expect(page.locator("#details .evidence").first.locator("p").first).to_contain_text(" — p. 3")
    assert_evidence_shown(page, answers[0]["claims"][0])


def test_claims_after_emoji_are_highlighted_exactly(page):
    """The service's offsets count code points; an emoji is two UTF-16 units in the page's strings."""
    from playwright.sync_api import expect

    page.fill("#text", "🎉🎉 Big news from 🇫🇮! " + REFUTED_CLAIM)
    page.click("#check")
    expect(page.locator("#status")).to_have_text(re.compile(r"^\d+ claim\(s\) checked"), timeout=CHECK_TIMEOUT_MS)
    expect(page.locator("#annotated .claim").last).to_have_text(REFUTED_CLAIM)
    expect(page.locator("#annotated")).to_have_text("🎉🎉 Big news from 🇫🇮! " + REFUTED_CLAIM)


def test_only_web_links_are_clickable(page):
    from playwright.sync_api import expect

    def add_urls(route):
        response = route.fetch(timeout=CHECK_TIMEOUT_MS)
        body = response.json()
        for number, evidence in enumerate(body["claims"][0]["evidence"]):
            evidence["url"] = ["javascript:alert(1)", "data:text/html,<b>x</b>", "https://example.org/a"][number % 3]
        route.fulfill(response=response, json=body)

    page.route("**/v1/check", add_urls)
    page.fill("#text", REFUTED_CLAIM)
    page.click("#check")
    expect(page.locator("#status")).to_have_text(re.compile(r"^1 claim\(s\) checked"), timeout=CHECK_TIMEOUT_MS)
    links = page.locator("#details .evidence a.source")
    expect(links).to_have_count(len([n for n in range(page.locator("#details .evidence").count()) if n % 3 == 2]))
    for number in range(links.count()):
        expect(links.nth(number)).to_have_attribute("href", "https://example.org/a")


def test_errors_are_shown_clearly(page):
    from playwright.sync_api import expect

    status = page.locator("#status")
    # Blank text, submitted from the keyboard (Ctrl+Enter in the text box): no request, a message.
    page.fill("#text", "   \n ")
    page.focus("#text")
    page.keyboard.press("Control+Enter")
    expect(status).to_have_text("Paste some text first.")
    expect(status).to_have_class("error")
    expect(status).to_have_css("color", "rgb(207, 34, 46)")

    # The server refuses a text over its limit: its own message is shown.
    page.fill("#text", "a" * 100_001)
    with page.expect_response("**/v1/check") as answered:
        page.click("#check")
    assert answered.value.status == 413
    expect(status).to_have_text("100001 characters; the limit is 100000 (CLAIMCHECK_MAX_TEXT_CHARS)")
    expect(status).to_have_class("error")
    expect(page.locator("#check")).to_be_enabled()

    # A server error without the JSON error body, then no server at all.
    page.route("**/v1/check", lambda route: route.fulfill(status=502, body="Bad Gateway", content_type="text/plain"))
    page.fill("#text", "Finland joined NATO in April 2023.")
    page.click("#check")
    expect(status).to_have_text("The service answered 502")
    expect(status).to_have_class("error")
    page.unroute("**/v1/check")
    page.route("**/v1/check", lambda route: route.abort("connectionrefused"))
    page.click("#check")
    expect(status).to_have_text(re.compile(r"^The service could not be reached: "))
    expect(status).to_have_class("error")
    expect(page.locator("#check")).to_be_enabled()
    assert overflow(page) <= 0


@pytest.mark.parametrize("docs_page", ["/docs", "/redoc"])
def test_api_docs_render_offline(browser, server, docs_page):
    """Swagger UI and ReDoc render every endpoint from the service's own files, with the network closed.
    The one request that leaves the server is ReDoc's "API docs by Redocly" footer logo, which
    the page shows without."""
    from playwright.sync_api import expect

    context = browser.new_context(base_url=server)
    opened = context.new_page()
    outside: list[str] = []
    ours = (server, f"blob:{server}")  # ReDoc runs a web worker from a blob of its own script
    footer_logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    allowed = lambda url: url.startswith(ours) or url == footer_logo  # noqa: E731
    opened.on("request", lambda request: None if allowed(request.url) else outside.append(request.url))
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(docs_page)
    for path in ("/v1/check", "/v1/verify/batch", "/v1/admin/reload"):
        expect(opened.get_by_text(path, exact=True).first).to_be_visible(timeout=30_000)
    context.close()
    assert not outside and not errors, (outside, errors)
