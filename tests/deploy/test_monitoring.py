"""Prometheus and Grafana: the queries name only metrics the worker exposes, and the wiring holds."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

GRAFANA = Path(__file__).resolve().parents[2] / "deploy" / "grafana"
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
                   "offset", "inf", "nan"}
PROMETHEUS_BUILTINS = {"up"}  # series Prometheus itself writes for every target


def promql_metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: identifiers that are not functions, keywords, labels
    (inside ``{}`` or a ``by (...)`` list), range durations or numbers."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        before, after = expr[: match.start()], expr[match.end():]
        if after.lstrip().startswith("(") or match[0].lower() in PROMQL_KEYWORDS:
            continue
        if before and (before[-1].isdigit() or before[-1] == "."):  # exponent of a number like 1e-9
            continue
        names.add(match[0])
    return names


@pytest.mark.parametrize("expr, names", [
    ('sum by (le) (rate(a_seconds_bucket{job="x"}[$__rate_interval]))', {"a_seconds_bucket"}),
    ("sum(rate(a_total[5m])) / clamp_min(sum(rate(b_total[5m])), 1e-9) > 0.01", {"a_total", "b_total"}),
    ('count(count by (version) (info)) > 1 and up{job="w"} == 0', {"info", "up"}),
    ("sum(rate(x[1m])) by (reason, state)", {"x"}),
])
def test_promql_metric_names(expr, names):
    assert promql_metric_names(expr) == names


def allowed_series(worker_metrics: dict[str, str]) -> set[str]:
    names = set()
    for name, kind in worker_metrics.items():
        names |= {name + s for s in HISTOGRAM_SUFFIXES} if kind == "histogram" else {name}
    return names


@pytest.fixture(scope="module")
def dashboard() -> dict:
    (path,) = (GRAFANA / "dashboards").glob("*.json")
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def dashboard_exprs(dashboard) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_dashboard_queries_use_only_worker_metrics(dashboard_exprs, worker_metrics):
    allowed = allowed_series(worker_metrics)
    for expr in dashboard_exprs:
        unknown = promql_metric_names(expr) - allowed
        assert not unknown, f"{expr!r} selects {sorted(unknown)}, which the worker does not expose"


def test_dashboard_shows_every_worker_metric(dashboard_exprs, worker_metrics):
    used = {name for expr in dashboard_exprs for name in promql_metric_names(expr)}
    missing = {m for m in worker_metrics if not ({m} | {m + s for s in HISTOGRAM_SUFFIXES}) & used}
    assert not missing, f"no panel shows {sorted(missing)}"


def test_dashboard_panels_use_the_provisioned_datasource(dashboard, grafana_provisioning):
    (datasource,) = grafana_provisioning["datasources"]["datasources"]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://prometheus:9090"
    assert dashboard["uid"] and dashboard["title"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    for panel in dashboard["panels"]:
        refs = [panel["datasource"]] + [t["datasource"] for t in panel["targets"]]
        assert all(ref["uid"] == datasource["uid"] for ref in refs), panel["title"]


def test_alert_rules_use_only_worker_metrics(alert_rules, worker_metrics):
    allowed = allowed_series(worker_metrics) | PROMETHEUS_BUILTINS
    assert alert_rules
    for rule in alert_rules:
        assert rule["alert"].startswith("Finsentry") and rule["annotations"]["summary"], rule
        unknown = promql_metric_names(rule["expr"]) - allowed
        assert not unknown, f"{rule['alert']} selects {sorted(unknown)}"


def test_prometheus_loads_the_rules_and_scrapes_worker_metrics(prometheus_config, alert_rules):
    assert prometheus_config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    (job,) = [j for j in prometheus_config["scrape_configs"] if j["job_name"] == "finsentry-worker"]
    assert job["metrics_path"] == "/metrics"
    jobs_in_rules = set(re.findall(r'job="([^"]+)"', " ".join(rule["expr"] for rule in alert_rules)))
    assert jobs_in_rules <= {j["job_name"] for j in prometheus_config["scrape_configs"]}
