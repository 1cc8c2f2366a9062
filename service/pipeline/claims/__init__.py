"""The claims stage: markup blanked, language checked, sentences made to stand alone, and each
scored for check-worthiness (extractor.py composes them)."""
