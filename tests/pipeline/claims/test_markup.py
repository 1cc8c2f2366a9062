"""The masked view of submitted text: same length, markup and bullets blanked, blocks where sentences cannot run on."""

from __future__ import annotations

import pytest

from service.pipeline.claims.markup import blocks, headings_and_cells, mask, plain, widened


def spans(text: str) -> list[str]:
    masked, breaks = mask(text)
    return [text[start:end] for start, end in blocks(masked, breaks)]


def test_tags_comments_and_bullets_become_spaces_of_the_same_length():
    text = "<p class='x'>NATO &amp; the EU</p><!-- note -->\n- one\n• two\n1. three\n(a) four"
    masked, _ = mask(text)
    assert len(masked) == len(text)
    assert masked.split() == ["NATO", "&", "the", "EU", "one", "two", "three", "four"]


def test_blocks_end_at_blank_lines_block_tags_and_list_items():
    assert spans("One.\nstill one.\n\n  Two.  ") == ["One.\nstill one.", "Two."]
    assert spans("<ul><li>NATO has 32 members</li><li>Its seat is Brussels</li></ul>") == ["NATO has 32 members", "Its seat is Brussels"]
    assert spans("- NATO has 32 members\n- Its seat is Brussels") == ["NATO has 32 members", "Its seat is Brussels"]
    assert spans("Inline <b>bold</b> and a<br/>break") == ["Inline <b>bold</b> and a", "break"]


def test_markdown_headings_lose_their_marks_and_end_their_block():
    text = "# NATO at 75\n## Article 5 ##\nThe Parties agree.\n#NATO trends. Issue #5 is open. C# rocks."
    masked, _ = mask(text)
    assert len(masked) == len(text) and masked.count("#") == 3  # a hashtag, "#5" and "C#" are no heading marks
    assert spans(text) == ["NATO at 75", "Article 5", "The Parties agree.\n#NATO trends. Issue #5 is open. C# rocks."]
    assert [text[a:b].strip() for a, b in headings_and_cells(text)] == ["NATO at 75", "Article 5"]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_markdown_table_cells_are_blocks_and_its_rule_is_blanked(newline):
    text = newline.join(["| Year | Members |", "|---|:---:|", "| 1949 | 12 founding members |", "", "After the table. A | B is kept."])
    masked, _ = mask(text)
    assert len(masked) == len(text) and masked.count("|") == 1 and "-" not in masked
    assert spans(text) == ["Year", "Members", "1949", "12 founding members", "After the table. A | B is kept."]
    assert [text[a:b].strip() for a, b in headings_and_cells(text)] == ["Year", "Members", "1949", "12 founding members"]


def test_a_table_without_outer_borders_is_read_cell_by_cell():
    text = "Name | Joined\n--- | ---\nFinland | 2023\nSweden | 2024\n\nNATO has 32 members."
    assert spans(text) == ["Name", "Joined", "Finland", "2023", "Sweden", "2024", "NATO has 32 members."]


def test_underlined_headings_quotes_emphasis_and_links_read_as_their_text():
    assert spans("NATO Summit Report\r\n====\r\nLeaders met.") == ["NATO Summit Report", "Leaders met."]
    wrapped = "NATO was founded in 1949 by twelve countries\nin Washington, D.C.\n---\nSweden joined in 2024."
    assert spans(wrapped) == ["NATO was founded in 1949 by twelve countries\nin Washington, D.C.", "Sweden joined in 2024."]
    assert spans('Intro.\n> "NATO has 32 members," he said.\n> It meets.') == ["Intro.", '"NATO has 32 members," he said.\n> It meets.']
    assert spans(">50% of Americans own a gun, the report claimed.") == [">50% of Americans own a gun, the report claimed."]
    masked, _ = mask("**Brussels, 12 July** — 2 * 3 = 6, snake_case_name, __bold__ and _italic_, __init__.py, /var/_cache_/log.")
    assert masked.split() == [
        *["Brussels,", "12", "July", "—", "2", "*", "3", "=", "6,", "snake_case_name,", "bold", "and", "italic", ","],
        *["__init__.py,", "/var/_cache_/log."],
    ]
    text = 'See [Article 5](https://nato.int/a_b.htm "NATO"), [NATO](https://w.org/wiki/NATO_(alliance)) and ![a chart](c.png), or [1] (x).'
    masked, _ = mask(text)
    assert len(masked) == len(text)
    assert masked.split() == ["See", "Article", "5", ",", "NATO", "and", "a", "chart", ",", "or", "[1]", "(x)."]


def test_symbol_runs_are_blanked_and_unbroken_runs_broken():
    rule, unbroken = "=" * 40, "x" * 250
    masked, _ = mask(f"Title\n{rule}\n{unbroken}")
    assert masked.split() == ["Title", "x" * 99, "x" * 99, "x" * 50]


def test_text_that_only_looks_like_markup_is_kept():
    assert spans("a < b and c > d; x -y") == ["a < b and c > d; x -y"]
    assert spans("") == [] and spans("<p></p>\n\n") == []


def test_entities_between_words_read_as_their_characters():
    text = "&nbsp;NATO&#39;s budget rose 12% in 2023 &amp; allies agreed &#8212; &quot;again&quot;."
    masked, breaks = mask(text)
    assert len(masked) == len(text)
    assert masked.split() == ["NATO&#39;s", "budget", "rose", "12%", "in", "2023", "&", "allies", "agreed", "—", '"again"', "."]
    assert [plain(masked[start:end]) for start, end in blocks(masked, breaks)] == [
        'NATO\'s budget rose 12% in 2023 & allies agreed — "again".'
    ]  # one sentence: the semicolon of "&amp;" no longer ends a clause
    assert mask("a &lt; b and c &gt; d")[0].split() == ["a", "&lt;", "b", "and", "c", "&gt;", "d"]  # never markup


def test_scripts_and_styles_are_blanked_whole():
    assert spans("<style>p {color: red}</style><p>NATO has 32 members.</p><script>var x = 1;</script>Done.") == [
        "NATO has 32 members.",
        "Done.",
    ]
    assert spans("<p>Text.</p><SCRIPT type='x'>if (a<b) {}</script >") == ["Text."]


def test_markup_that_is_only_mentioned_or_escaped_keeps_the_text_after_it():
    for text in (
        "Sites load &lt;script src=x&gt; tags. Finland joined NATO in 2023.",
        "HTML comments look like &lt;!-- this --&gt; in source. NATO has 32 members.",
        "Use the <style> element sparingly. NATO has 32 members.",
        "<style-guide>Be brief.</style-guide> NATO has 32 members.",
    ):
        assert "NATO" in " ".join(mask(text)[0].split()[-4:]) and len(spans(text)) == 1


def test_escaped_tags_are_blanked_like_tags():
    text = "&lt;p&gt;NATO has 32 members.&lt;/p&gt;&lt;a href=&quot;https://nato.int&quot;&gt;It was founded in 1949.&lt;/a&gt;"
    assert mask(text)[0].split() == ["NATO", "has", "32", "members.", "It", "was", "founded", "in", "1949."]
    assert spans("Use the &lt;p&gt; tag for paragraphs.") == ["Use the &lt;p&gt; tag for paragraphs."]  # mentioned: no block ends


def test_an_entity_inside_a_word_stays_whole():
    for word in ("AT&amp;T", "Bundes&shy;wehr", "NA&#8203;TO"):
        assert mask(word)[0] == word
    assert plain("Bundes&shy;wehr") == "Bundeswehr"


def test_a_span_that_ends_inside_an_entity_is_widened_to_the_whole_entity():
    text = "He said &quot;NATO grew&quot; twice."
    masked, _ = mask(text)
    start, end = masked.index('"'), masked.rindex('"') + 1  # the quotes sit at one end of each entity
    assert text[start:end] != "&quot;NATO grew&quot;"
    start, end = widened(text, start, end)
    assert text[start:end] == "&quot;NATO grew&quot;"


def test_plain_decodes_entities_and_collapses_whitespace():
    assert plain("AT&amp;T   cut\n jobs&nbsp;today") == "AT&T cut jobs today"


def test_invisible_characters_between_words_are_blanked_and_dropped_from_the_text_read():
    text = "\ufeffFounded in 1949.\u200b\u200f Finland joined.\u2060Sweden\u202c too. NA\u200bTO"
    masked, _ = mask(text)
    assert len(masked) == len(text)
    assert masked == " Founded in 1949.   Finland joined. Sweden  too. NA\u200bTO"  # inside a word it stays
    assert plain(masked) == "Founded in 1949. Finland joined. Sweden too. NATO"
    for word in ("NA\u200b\u200bTO", "don\u200b't", "cafe\u0301\u200bs"):  # inside a word, runs included
        assert mask(word)[0] == word and " " not in plain(word)


def test_an_invisible_character_before_a_full_stop_leaves_no_space_in_the_text_read():
    text = 'Finland joined NATO in April 2023\u200b. Rates rose by\u200b .5 points\u200b, "then fell\u200b." Type ? for help, 3 : 1'
    assert plain(mask(text)[0]) == 'Finland joined NATO in April 2023. Rates rose by .5 points, "then fell." Type ? for help, 3 : 1'


def test_transcript_speaker_labels_are_blanked_and_start_a_turn():
    transcript = (
        "MS. JEAN-PIERRE: NATO has 32 members.\nQ: Is that right?\nTHE PRESIDENT (via video): It is. We met in 2023.\nNote: informal"
    )
    masked, _ = mask(transcript)
    assert len(masked) == len(transcript)
    assert spans(transcript) == ["NATO has 32 members.", "Is that right?", "It is. We met in 2023.\nNote: informal"]  # "Note" is no label
    assert spans("The rule: NATO: 32 members.\nUSA: 1 of them.") == ["The rule: NATO: 32 members.\nUSA: 1 of them."]
    assert spans("JOSÉ: Sí.\nÉLODIE: Oui.\nQ: Yes?") == ["Sí.", "Oui.", "Yes?"]
