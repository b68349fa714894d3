"""Shared fixtures for the deployment checks: the files under deploy/, each parsed once.

These tests need no Docker, cluster or service; they keep the manifests consistent with each other and
with the code (settings names, metric names, the packages `make test` installs).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S_BASE = DEPLOY / "k8s" / "base"
GPU_OVERLAY = DEPLOY / "k8s" / "overlays" / "gpu"

def load_docs(path: Path) -> list[dict]:
    """Every non-empty YAML document in ``path``."""
    with path.open() as fh:
        return [doc for doc in yaml.safe_load_all(fh) if doc is not None]


def kustomize_objects(directory: Path) -> list[dict]:
    """The objects a kustomization lists under ``resources`` (files only, not nested bases)."""
    kustomization = load_docs(directory / "kustomization.yaml")[0]
    objects: list[dict] = []
    for entry in kustomization.get("resources", []):
        if (directory / entry).is_file():
            objects.extend(load_docs(directory / entry))
    return objects


@pytest.fixture(scope="session")
def worker_metrics() -> dict[str, str]:
    """``{name: type}`` of what a worker exports (stream/metrics.py); counters under their ``_total`` name."""
    from stream.metrics import Metrics

    return {family.name + ("_total" if family.type == "counter" else ""): family.type
            for family in Metrics().registry.collect()}


@pytest.fixture(scope="session")
def compose() -> dict:
    return load_docs(DEPLOY / "compose.yaml")[0]


@pytest.fixture(scope="session")
def k8s_objects() -> list[dict]:
    return kustomize_objects(K8S_BASE)


@pytest.fixture(scope="session")
def k8s_by_kind(k8s_objects) -> dict[str, dict[str, dict]]:
    """``{kind: {name: object}}`` for the base manifests."""
    out: dict[str, dict[str, dict]] = {}
    for obj in k8s_objects:
        out.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj
    return out


@pytest.fixture(scope="session")
def gpu_overlay() -> tuple[dict, dict[str, list[dict]]]:
    """The GPU overlay's kustomization and its patch files, ``{path: documents}``."""
    kustomization = load_docs(GPU_OVERLAY / "kustomization.yaml")[0]
    patches = {p["path"]: load_docs(GPU_OVERLAY / p["path"]) for p in kustomization.get("patches", []) if "path" in p}
    return kustomization, patches


@pytest.fixture(scope="session")
def prometheus_config() -> dict:
    return load_docs(DEPLOY / "prometheus" / "prometheus.yml")[0]


@pytest.fixture(scope="session")
def alert_rules() -> list[dict]:
    groups = load_docs(DEPLOY / "prometheus" / "alerts.yml")[0]["groups"]
    return [rule for group in groups for rule in group["rules"]]


@pytest.fixture(scope="session")
def grafana_provisioning() -> dict[str, dict]:
    """``{"datasources": ..., "dashboards": ...}``: the provisioning files, by directory."""
    root = DEPLOY / "grafana" / "provisioning"
    return {sub: load_docs(next((root / sub).glob("*.yaml")))[0] for sub in ("datasources", "dashboards")}


@pytest.fixture(scope="session")
def topic_partitions() -> dict[str, int]:
    """``{topic: partitions}`` as create-topics.sh creates them (lines ``create TOPIC N ...``)."""
    script = (K8S_BASE / "create-topics.sh").read_text()
    found = {m[1]: int(m[2]) for m in re.finditer(r"^create\s+(\S+)\s+(\d+)", script, re.MULTILINE)}
    assert found, "create-topics.sh creates no topics (expected lines 'create TOPIC PARTITIONS ...')"
    return found


def nested_env_names(model: type, prefix: str, delimiter: str) -> set[str]:
    """``PREFIX{FIELD}`` for every field, and ``PREFIX{FIELD}{delimiter}{SUBFIELD}…`` into nested models."""
    from pydantic import BaseModel

    names = set()
    for name, field in model.model_fields.items():
        env = f"{prefix}{name}".upper()
        names.add(env)
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            names |= nested_env_names(field.annotation, env + delimiter, delimiter)
    return names


@pytest.fixture(scope="session")
def settings_env_names() -> frozenset[str]:
    """Every environment variable the worker and dashboard settings accept (nested: FINSENTRY_ALERTS__EWMA__LIMIT)."""
    from stream.settings import Settings

    prefix = Settings.model_config["env_prefix"]
    delimiter = Settings.model_config.get("env_nested_delimiter") or "\0"
    return frozenset(nested_env_names(Settings, prefix, delimiter) | {f"{prefix}CONFIG"})


@pytest.fixture(scope="session")
def dashboard_env_names() -> frozenset[str]:
    """The variables only the dashboard accepts (``FINSENTRY_DASHBOARD_*``), besides the shared settings."""
    from stream.dashboard.settings import DashboardSettings

    prefix = DashboardSettings.model_config["env_prefix"]
    return frozenset(f"{prefix}{name}".upper() for name in DashboardSettings.model_fields)


@pytest.fixture(scope="session")
def settings_defaults():
    from stream.settings import Settings

    return {name: field.default for name, field in Settings.model_fields.items()}
