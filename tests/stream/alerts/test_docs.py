"""docs/alerts.md describes every payload field and names only real rule parameters."""
from __future__ import annotations

import re
from pathlib import Path

from stream.alerts.config import AlertConfig
from stream.alerts.monitor import TickerMonitor

DOC = Path(__file__).resolve().parents[3] / "docs" / "alerts.md"
STEP = [0.3, -0.3, 0.0, 0.2, -0.2] * 20 + [-0.8] * 20


def test_every_payload_field_is_documented(small_config, articles):
    alerts = []
    mon = TickerMonitor("AAPL", small_config)
    for a in articles(STEP):
        alerts += mon.apply(a, now=1.8e9)
    table = DOC.read_text().split("## Payload", 1)[1].split("\n## ", 1)[0]
    documented = {name for row in re.findall(r"^\| ([^|]+) \|", table, re.MULTILINE)
                  for name in re.findall(r"`(\w+)`", row)}
    assert alerts and set(alerts[0]) <= documented, set(alerts[0]) - documented
    assert set(alerts[0]["window"]) <= set(re.findall(r"`(\w+)`", table))


def test_rule_parameters_named_in_the_doc_exist():
    rules = DOC.read_text().split("## Rules", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`([a-z_]+)`", rules)) - {"ewma", "cusum", "volume"}
    fields = set().union(*(type(r).model_fields for r in (AlertConfig().ewma, AlertConfig().cusum,
                                                          AlertConfig().volume)))
    assert named and named <= fields, named - fields
