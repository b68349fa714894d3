"""docs/operations.md names only real settings and explains every alert rule."""
from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_doc_names_only_real_settings(settings_env_names):
    named = set(re.findall(r"\bFINSENTRY_[A-Z0-9_]*[A-Z0-9]\b", DOC.read_text()))
    unknown = named - settings_env_names
    assert not unknown, f"docs/operations.md names {sorted(unknown)}, which stream.settings.Settings lacks"


def test_doc_covers_every_alert(alert_rules):
    text = DOC.read_text()
    missing = [rule["alert"] for rule in alert_rules if rule["alert"] not in text]
    assert not missing, f"docs/operations.md does not mention {missing}"
