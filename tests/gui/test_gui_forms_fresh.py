"""ui/ is the single source of layout: every compiled form matches its .ui file."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _build_forms():
    spec = importlib.util.spec_from_file_location("build_forms", ROOT / "tools" / "build_forms.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_compiled_form_matches_its_ui_file():
    build_forms = _build_forms()
    assert build_forms.ui_files(), "no .ui forms found"
    assert build_forms.stale_forms() == [], "run: python tools/build_forms.py"


def test_an_edited_form_is_reported_stale(tmp_path, monkeypatch):
    build_forms = _build_forms()
    ui = tmp_path / "ui"
    forms = tmp_path / "forms"
    ui.mkdir()
    forms.mkdir()
    original = (ROOT / "ui" / "guidance_page.ui").read_text(encoding="utf-8")
    (ui / "guidance_page.ui").write_text(original, encoding="utf-8")
    monkeypatch.setattr(build_forms, "UI_DIR", ui)
    monkeypatch.setattr(build_forms, "FORMS_DIR", forms)
    build_forms.build()
    assert build_forms.stale_forms() == []
    (ui / "guidance_page.ui").write_text(original.replace("Guidance text", "Help text"),
                                         encoding="utf-8")
    assert build_forms.stale_forms() == ["guidance_page.ui"]
    (forms / "orphan.py").write_text("", encoding="utf-8")
    assert "orphan.py" in build_forms.stale_forms()
