"""The user guide shows the words of every check on meaning, so it cannot drift from them."""

from __future__ import annotations

from pathlib import Path

from nccid_desktop.sheets.definitions import TEMPLATES

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "user-guide.md").read_text("utf-8")


def test_every_meaning_rule_is_in_the_user_guide_in_its_own_words():
    for template in TEMPLATES.values():
        for rule in template.result_rules:
            assert rule.message in GUIDE, rule.code
            if rule.excused_message:
                assert rule.excused_message in GUIDE, rule.excused_code
        for recent in template.recent_tests:
            before, after = recent.message.split("{date}")
            assert before in GUIDE and after in GUIDE, recent.code


def test_the_other_new_checks_are_in_the_user_guide():
    for words in ("is also on the Covid Status sheet", "already holds an older Covid Status",
                  "already holds a Main (PCR-positive) record", "NCCID asks for 50 per upload",
                  "does not have the form of most hospital numbers on this sheet",
                  "patients on the sheet have no images in this export",
                  "belongs to no patient on the sheet", "nccid template upgrade",
                  "the national NCCID portal's Main (PCR-positive) template (v1.5)"):
        assert words in GUIDE, words
