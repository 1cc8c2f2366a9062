"""The seed article end to end through /v1/check, as a fact-checker pastes it (#21): every verdict it
gives rests on a sentence that settles the claim, and what cannot be read whole is skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

ARTICLE = (Path(__file__).resolve().parents[1] / "fixtures" / "news_article_ukraine_nato.txt").read_text(encoding="utf-8")
PACTS = "Since 2023, Ukraine has signed bilateral security pacts with several NATO members, including the UK, France and Germany."
STIPULATES = "which stipulates that an attack against one member must be treated as an attack against the alliance as a whole"
TEASER_ENDS = ("beseiged…", "committed…", "organization…", "United Nations…", "punitive measures…", "academic migration…")


@pytest.fixture(scope="module")
def checked(client):
    response = client.post("/v1/check", json={"text": ARTICLE})
    assert response.status_code == 200, response.text
    return response.json()


def claim_at(checked, fragment):
    found = [c for c in checked["claims"] if fragment in ARTICLE[c["start"] : c["end"]]]
    assert len(found) == 1, [c["claim"] for c in checked["claims"]]
    return found[0]


def test_the_security_pacts_are_not_settled_by_the_treaties(checked):
    assert claim_at(checked, PACTS)["verdict"] == "not_enough_info"


def test_what_article_5_stipulates_is_a_claim_of_its_own_supported_by_article_5(checked):
    claim = claim_at(checked, STIPULATES)
    assert ARTICLE[claim["start"] : claim["end"]] == STIPULATES
    assert claim["checked_as"].startswith("Article 5 of the NATO Charter stipulates that an attack against one member")
    assert claim["verdict"] == "supported"
    best = claim["evidence"][0]
    assert (best["doc_id"], best["section"], best["stance"]) == ("north_atlantic_treaty_1949_en.md", "Article 5", "supports")
    sentence_before = claim_at(checked, "These agreements do not have the same power as Article 5")
    assert sentence_before["end"] < claim["start"]  # the two claims of the sentence do not overlap


def test_each_teaser_cut_off_with_an_ellipsis_is_skipped_on_its_own(checked):
    truncated = [s for s in checked["skipped"] if s["reason"] == "truncated"]
    assert [ARTICLE[s["start"] : s["end"]].endswith(end) for s, end in zip(truncated, TEASER_ENDS, strict=True)] == [True] * 6
    assert all("\n" not in ARTICLE[s["start"] : s["end"]] for s in truncated)
    assert not any(ARTICLE[c["start"] : c["end"]].endswith("…") for c in checked["claims"])


def test_the_alliance_is_nato_not_the_magazine_named_before_it(checked):
    claim = claim_at(checked, "The White House, however, said that Ukraine would not become a member of the alliance")
    assert "Politico" not in claim["checked_as"] and "NATO" in claim["checked_as"]


@pytest.mark.parametrize("top_k", [None, 3, 1])
def test_every_verdict_rests_on_a_sentence_that_addresses_its_claim(client, top_k):
    """With fewer passages shown too: a head that sums weak leanings read "refuted" from three neutral passages."""
    response = client.post("/v1/check", json={"text": ARTICLE, **({"top_k": top_k} if top_k else {})})
    assert response.status_code == 200, response.text
    checked = response.json()
    floor = client.app.state.pipeline.operating_point[0]
    given = [c for c in checked["claims"] if c["verdict"] != "not_enough_info"]
    assert given  # the Article 5 claim at least
    for claim in given:
        deciding = claim["evidence"][0]
        assert deciding["stance"] != "neutral"
        assert deciding["claim_similarity"] is not None and deciding["claim_similarity"] >= floor, claim["claim"]
