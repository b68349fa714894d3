"""deploy/compose.yaml: services, environment, ports, health checks and dependencies agree."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"

FINSENTRY_SERVICES = ("worker", "worker-gpu", "dashboard")
WORKERS = ("worker", "worker-gpu")
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
REQUIRED_VAR = re.compile(r"^\$\{(\w+):\?[^}]+\}$")


def healthcheck_url(service: dict) -> str:
    test = " ".join(service["healthcheck"]["test"])
    match = re.search(r"https?://[^'\" ]+", test)
    assert match, f"health check {test!r} calls no http:// URL"
    return match[0]


def test_expected_services(compose):
    expected = {"kafka", "kafka-init", "redis", "worker", "worker-gpu", "dashboard", "prometheus", "grafana"}
    assert expected <= set(compose["services"])


def test_finsentry_services_use_the_image_and_its_entrypoint(compose):
    for name in FINSENTRY_SERVICES:
        service = compose["services"][name]
        assert service["build"]["dockerfile"] == "deploy/Dockerfile", name
        assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file(), name
        assert service["command"][0] in ("worker", "dashboard"), f"{name}: command is a finsentry subcommand"
    assert compose["services"]["worker-gpu"]["build"]["args"]["VARIANT"] == "cuda"


def test_env_names_are_settings(compose, settings_env_names, dashboard_env_names):
    for name, service in compose["services"].items():
        env = service.get("environment", {})
        assert isinstance(env, dict), f"{name}: write environment as a mapping"
        known = settings_env_names | (dashboard_env_names if name == "dashboard" else frozenset())
        unknown = {key for key in env if key.startswith("FINSENTRY_")} - known
        assert not unknown, f"{name}: {sorted(unknown)} are not fields of stream.settings.Settings"


def test_dashboard_scrapes_every_worker_replica(compose):
    """The health panel finds each replica the way Prometheus does: all addresses of the service name."""
    from stream.dashboard.settings import load_dashboard_settings

    env = compose["services"]["dashboard"]["environment"]
    workers = load_dashboard_settings(environ=env).workers
    targets = {(urlsplit(u.removeprefix("dns+")).hostname, urlsplit(u.removeprefix("dns+")).port) for u in workers}
    assert all(u.startswith("dns+http://") for u in workers)
    assert targets == {(name, int(compose["services"][name]["environment"]["FINSENTRY_METRICS_PORT"]))
                       for name in WORKERS}


def test_secrets_come_from_required_variables(compose):
    """No secret has a default: compose refuses to start until deploy/.env sets it."""
    example = (DEPLOY / ".env.example").read_text()
    for name, service in compose["services"].items():
        for key, value in service.get("environment", {}).items():
            if re.search(r"(PASSWORD|TOKEN|_AUTH)$", key):
                match = REQUIRED_VAR.match(str(value))
                assert match, f"{name}.{key} must be ${{VAR:?message}}, got {value!r}"
                assert re.search(rf"^{match[1]}=", example, re.MULTILINE), f"{match[1]} missing from .env.example"


def test_depends_on_targets_exist_with_valid_conditions(compose):
    services = compose["services"]
    for name, service in services.items():
        for target, spec in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown service {target}"
            assert spec["condition"] in CONDITIONS, f"{name} -> {target}: {spec['condition']}"
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target} to be healthy; it has no check"
            if spec["condition"] == "service_completed_successfully":
                assert services[target].get("restart", "no") == "no", f"{target} is a one-shot job"


def test_workers_wait_for_topics_and_redis(compose):
    for name in WORKERS:
        depends = compose["services"][name]["depends_on"]
        assert depends["kafka-init"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"


def test_volumes_are_declared_and_bind_sources_exist(compose):
    declared = set(compose.get("volumes", {}))
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (DEPLOY / source).exists(), f"{name}: bind source {source} does not exist"
            else:
                assert source in declared, f"{name}: named volume {source} is not declared at top level"


def test_worker_metrics_port_matches_expose_healthcheck_and_scrape(compose, prometheus_config):
    scrape = next(job for job in prometheus_config["scrape_configs"] if job["job_name"] == "finsentry-worker")
    dns = scrape["dns_sd_configs"][0]
    for name in WORKERS:
        service = compose["services"][name]
        port = int(service["environment"]["FINSENTRY_METRICS_PORT"])
        assert [int(p) for p in service["expose"]] == [port]
        url = urlsplit(healthcheck_url(service))
        assert (url.port, url.path) == (port, "/readyz")
        assert dns["port"] == port and name in dns["names"]


def test_worker_replicas_within_partitions(compose, topic_partitions):
    for name in WORKERS:
        replicas = compose["services"][name]["deploy"]["replicas"]
        assert 1 <= replicas <= topic_partitions["news"], f"{name}: {replicas} replicas"


def test_gpu_worker_reserves_a_gpu(compose):
    service = compose["services"]["worker-gpu"]
    assert service["environment"]["FINSENTRY_DEVICE"] == "cuda"
    devices = service["deploy"]["resources"]["reservations"]["devices"]
    assert any("gpu" in d["capabilities"] for d in devices)
    assert service["profiles"] == ["gpu"], "GPU workers start only with --profile gpu"


def test_dashboard_binds_publicly_only_with_a_token(compose):
    service = compose["services"]["dashboard"]
    command = service["command"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    port = int(command[command.index("--port") + 1])
    assert "FINSENTRY_API_TOKEN" in service["environment"]
    assert [int(p.rsplit(":", 1)[1]) for p in service["ports"]] == [port]
    url = urlsplit(healthcheck_url(service))
    assert (url.port, url.path) == (port, "/healthz")


def test_kafka_runs_kraft_and_init_job_uses_topics_script(compose):
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = kafka["environment"]
    assert "controller" in env["KAFKA_PROCESS_ROLES"] and env["CLUSTER_ID"]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false", "topics come from create-topics.sh only"
    init = compose["services"]["kafka-init"]
    assert init["image"] == kafka["image"]
    mounts = dict(v.split(":")[:2] for v in init["volumes"])
    assert mounts["./k8s/base/create-topics.sh"] == init["entrypoint"][-1]
    bootstrap = init["environment"]["FINSENTRY_KAFKA_BOOTSTRAP"]
    assert bootstrap == compose["services"]["worker"]["environment"]["FINSENTRY_KAFKA_BOOTSTRAP"]


def test_topic_layout(compose, topic_partitions, settings_defaults):
    topics = {settings_defaults[f] for f in ("input_topic", "output_topic", "dlq_topic", "by_ticker_topic",
                                            "alerts_topic")}
    assert topics == set(topic_partitions), "create-topics.sh creates exactly the topics the workers use"
    # news.by_ticker is re-keyed from news: same partition count, so every worker owns a share of both.
    assert topic_partitions[settings_defaults["by_ticker_topic"]] == topic_partitions["news"]
    env = compose["services"]["worker"]["environment"]
    assert int(env["FINSENTRY_TOPIC_PARTITIONS"]) == topic_partitions["news"]


def test_grafana_mounts_provisioning_and_dashboards(compose, grafana_provisioning):
    mounts = dict(v.split(":")[:2] for v in compose["services"]["grafana"]["volumes"])
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    provider = grafana_provisioning["dashboards"]["providers"][0]
    assert mounts["./grafana/dashboards"] == provider["options"]["path"]


def test_alert_webhooks_come_from_the_env_file(compose):
    for name in WORKERS:
        value = compose["services"][name]["environment"]["FINSENTRY_ALERTS__WEBHOOKS"]
        assert re.fullmatch(r"\$\{ALERT_WEBHOOKS:-\[\]\}", value), value
    assert "ALERT_WEBHOOKS=" in (DEPLOY / ".env.example").read_text()
