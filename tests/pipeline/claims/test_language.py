"""The English check, on spaCy's tokenizer alone."""

from __future__ import annotations

import pytest
import spacy

from service.pipeline.claims.language import UNNAMED, foreign_language


@pytest.fixture(scope="module")
def tokenize():
    nlp = spacy.blank("en")
    return lambda text: nlp.make_doc(text)[:]


@pytest.mark.parametrize(
    "text",
    [
        "Finland joined NATO in April 2023.",
        "Finland joins NATO",
        "I want to restore a meaningful safety net.",
        "El Niño and La Niña are climate patterns.",
        "Kennedy said 'Ich bin ein Berliner' in Berlin in 1963, to great applause.",
        "Angela Merkel met Emmanuel Macron in Paris.",
        "The Bundestag voted on the Sondervermögen for the Bundeswehr.",
        "Merci beaucoup.",
        "12,000 € (2023)",
        "Ursula von der Leyen spoke.",
        "Charles de Gaulle withdrew France from NATO's integrated command in 1966.",
        "Pursuant to the International Emergency Economic Powers Act (50 U.S.C. 1701 et seq.)",
        "SARS-CoV-2 infects hNPCs, neurospheres and brain organoids.",
        "The treaties were signed and ratified by the parliaments that took part.",
        "Mohammed bin Salman met Joe Biden.",
        "The café served naïve résumé writers.",
        "The app lets users livestream gameplay.",
        "ngl the covid vax rollout was a mess",
        "pfizer sued moderna",
        "Vaccines work #vaccineswork #getvaccinated #stayhome",
    ],
)
def test_english_and_short_or_mixed_text_passes(tokenize, text):
    assert foreign_language(tokenize(text)) is None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Die NATO wurde 1949 in Washington gegründet.", "German"),
        ("Im Jahr der Krise stieg die Zahl der Arbeitslosen.", "German"),
        ("La OTAN fue fundada en 1949 en Washington.", "Spanish"),
        ("La NATO è stata fondata nel 1949 a Washington.", "Italian"),
        ("De NAVO werd in 1949 opgericht en heeft nu 32 leden.", "Dutch"),
        ("Sverige blev medlem av Nato i mars 2024 efter en lång process.", "Swedish"),
        ("НАТО было основано в 1949 году.", "Cyrillic script"),
        ("北大西洋公约组织成立于1949年。", "CJK script"),
        ("حلف الناتو تأسس عام 1949", "Arabic script"),
    ],
)
def test_other_languages_are_named(tokenize, text, language):
    assert foreign_language(tokenize(text)) == language


@pytest.mark.parametrize(
    "text",
    [
        "L'OTAN a été fondée en 1949 à Washington.",
        "Elle compte aujourd'hui 32 membres.",
        "A OTAN foi fundada em 1949 em Washington.",
        "NATO zostało założone w 1949 roku w Waszyngtonie.",
        "Finlandiya Nisan 2023'te ittifaka katıldı.",
    ],
)
def test_sentences_with_too_few_stop_words_to_name_their_language_are_still_not_english(tokenize, text):
    assert foreign_language(tokenize(text)) == UNNAMED


@pytest.mark.parametrize(
    "text",
    [
        "The Security Council has fifteen members (le Conseil de sécurité compte quinze membres).",
        "NATO was founded in 1949 (die NATO wurde 1949 in Washington gegründet).",
        "The alliance now has 32 members «la alianza tiene ahora 32 miembros».",
        "Russia calls it a “специальная военная операция” on state television.",
    ],
)
def test_a_sentence_is_read_by_its_main_language(tokenize, text):
    assert foreign_language(tokenize(text)) is None


def test_an_english_aside_does_not_make_a_foreign_sentence_english(tokenize):
    assert foreign_language(tokenize("Die NATO wurde 1949 in Washington gegründet (founded in 1949).")) == "German"
    assert foreign_language(tokenize("(Die NATO wurde 1949 in Washington gegründet.)")) == "German"  # nothing outside: all read
