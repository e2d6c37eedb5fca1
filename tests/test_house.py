"""The house rules of DESIGN.md hold for src/: no import circles (module or package level, imports
inside functions counted), no private name imported from another module."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_rules_hold(capsys):
    spec = importlib.util.spec_from_file_location("check_imports", ROOT / "scripts" / "check_imports.py")
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)
    status = checker.main([str(ROOT / "src")])
    assert status == 0, capsys.readouterr().out


def test_no_module_over_500_lines_without_a_reason():
    """A module over ~500 lines must say why in its docstring ("long because ...")."""
    long = [p for p in (ROOT / "src" / "deepearth").rglob("*.py")
            if len(p.read_text().splitlines()) > 520 and "long because" not in p.read_text()[:3000]]
    assert not long, long
