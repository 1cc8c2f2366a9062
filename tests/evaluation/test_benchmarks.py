"""The benchmarks page: regenerated from the saved reports, never edited by hand."""

from __future__ import annotations

import json

from service.evaluation.benchmarks import DOCS, render


def test_the_benchmarks_page_is_what_the_saved_reports_render():
    assert (DOCS / "benchmarks.md").read_text(encoding="utf-8") == render(DOCS / "results")


def test_the_speed_section_shows_the_limit_over_the_naive_pipeline_when_the_run_measured_it(tmp_path):
    speed = json.loads((DOCS / "results" / "speed.json").read_text(encoding="utf-8"))
    (tmp_path / "speed.json").write_text(json.dumps(speed), encoding="utf-8")
    assert f"| {speed['limit_over_naive']}x |" in render(tmp_path)
    del speed["limit_over_naive"]  # a report saved before the bench measured it
    (tmp_path / "speed.json").write_text(json.dumps(speed), encoding="utf-8")
    assert "the model-only limit over the naive pipeline" not in render(tmp_path)


def test_the_transcript_and_language_sections_show_their_reports():
    page = render(DOCS / "results")
    head = json.loads((DOCS / "results" / "checkworthiness_head.json").read_text(encoding="utf-8"))
    turns = head["cross_validation"]["turns"]
    assert f"| turns | 19 | {turns['sentence_model_map']:.3f} | {turns['head_map']:.3f} |" in page
    assert "| claimcheck (language.py) | 0.0000 |" in page
