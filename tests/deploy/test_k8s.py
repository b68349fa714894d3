"""deploy/k8s: objects are well formed and reference each other, workers fit the partitions."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
WORKLOAD_KINDS = ("Deployment", "Job")


def containers(obj: dict) -> list[dict]:
    return obj["spec"]["template"]["spec"]["containers"]


def port_names_and_numbers(container: dict) -> set:
    return {p.get("name") for p in container.get("ports", [])} | {p["containerPort"] for p in container.get("ports", [])}


def env_names(container: dict) -> set[str]:
    return {e["name"] for e in container.get("env", [])}


@pytest.fixture(scope="module")
def worker(k8s_by_kind) -> dict:
    return k8s_by_kind["Deployment"]["finsentry-worker"]


@pytest.fixture(scope="module")
def config(k8s_by_kind) -> dict[str, str]:
    return k8s_by_kind["ConfigMap"]["finsentry-config"]["data"]


@pytest.mark.parametrize("directory", ["base", "overlays/gpu"])
def test_kustomization_lists_existing_files(directory):
    root = K8S / directory
    kustomization = yaml.safe_load((root / "kustomization.yaml").read_text())
    paths = list(kustomization.get("resources", []))
    paths += [p["path"] for p in kustomization.get("patches", []) if "path" in p]
    paths += [f for gen in kustomization.get("configMapGenerator", []) for f in gen.get("files", [])]
    assert paths
    for path in paths:
        assert (root / path).exists(), f"{directory}/kustomization.yaml lists missing {path}"
    if directory == "base":
        on_disk = {p.name for p in root.glob("*.yaml")} - {"kustomization.yaml"}
        assert on_disk == set(kustomization["resources"]), "every manifest in base/ is listed, and only those"


def test_objects_have_identity(k8s_objects):
    for obj in k8s_objects:
        assert obj.get("apiVersion") and obj.get("kind") and obj.get("metadata", {}).get("name"), obj


def test_deployment_selectors_match_template_labels(k8s_by_kind):
    for name, deployment in k8s_by_kind["Deployment"].items():
        selector = deployment["spec"]["selector"]["matchLabels"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), f"{name}: selector {selector} does not match {labels}"


def test_workloads_have_resources_and_run_as_non_root(k8s_by_kind):
    for kind in WORKLOAD_KINDS:
        for name, obj in k8s_by_kind[kind].items():
            assert obj["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True, name
            for container in containers(obj):
                resources = container["resources"]
                assert {"cpu", "memory"} <= resources["requests"].keys(), name
                assert "memory" in resources["limits"], name
                assert container["securityContext"]["allowPrivilegeEscalation"] is False, name


def test_deployments_probe_declared_ports(k8s_by_kind):
    for name, deployment in k8s_by_kind["Deployment"].items():
        for container in containers(deployment):
            ports = port_names_and_numbers(container)
            for probe in ("readinessProbe", "livenessProbe"):
                assert probe in container, f"{name}: no {probe}"
                assert container[probe]["httpGet"]["port"] in ports, f"{name}: {probe} port is not declared"


def test_worker_probes_and_scrape_annotations_use_the_metrics_port(worker, config):
    (container,) = containers(worker)
    port = int(config["FINSENTRY_METRICS_PORT"])
    assert [p["containerPort"] for p in container["ports"]] == [port]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    annotations = worker["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == port
    assert annotations["prometheus.io/path"] == "/metrics"
    assert container["args"] == ["worker"]


def test_dashboard_needs_a_token_and_its_service_targets_it(k8s_by_kind):
    deployment = k8s_by_kind["Deployment"]["finsentry-dashboard"]
    (container,) = containers(deployment)
    args = container["args"]
    assert args[0] == "dashboard" and args[args.index("--host") + 1] == "0.0.0.0"
    assert "FINSENTRY_API_TOKEN" in env_names(container)
    assert int(args[args.index("--port") + 1]) in {p["containerPort"] for p in container["ports"]}
    service = k8s_by_kind["Service"]["finsentry-dashboard"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    for port in service["spec"]["ports"]:
        assert port["targetPort"] in port_names_and_numbers(container)


def test_env_names_are_settings(k8s_by_kind, config, settings_env_names, dashboard_env_names):
    names = set(config)  # shared by every workload: only the common settings belong here
    for kind in WORKLOAD_KINDS:
        for name, obj in k8s_by_kind[kind].items():
            for container in containers(obj):
                own = env_names(container)
                if name == "finsentry-dashboard":
                    own -= dashboard_env_names
                names |= own
    unknown = {n for n in names if n.startswith("FINSENTRY_")} - settings_env_names
    assert not unknown, f"{sorted(unknown)} are not fields of stream.settings.Settings"


def test_dashboard_scrapes_every_worker_pod_through_a_headless_service(k8s_by_kind, worker, config):
    from urllib.parse import urlsplit

    from stream.dashboard.settings import load_dashboard_settings

    (container,) = containers(k8s_by_kind["Deployment"]["finsentry-dashboard"])
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    (url,) = load_dashboard_settings(environ=env).workers
    assert url.startswith("dns+http://")
    target = urlsplit(url.removeprefix("dns+"))
    service = k8s_by_kind["Service"][target.hostname]
    assert service["spec"]["clusterIP"] == "None", "headless: its name resolves to every pod"
    assert service["spec"]["publishNotReadyAddresses"] is True, "unready workers are shown, not hidden"
    assert service["spec"]["selector"].items() <= worker["spec"]["template"]["metadata"]["labels"].items()
    (port,) = service["spec"]["ports"]
    assert target.port == port["port"] == int(config["FINSENTRY_METRICS_PORT"])
    assert port["targetPort"] in port_names_and_numbers(containers(worker)[0])


def test_config_and_secret_references_resolve(k8s_by_kind):
    secrets = k8s_by_kind["Secret"]
    config_maps = set(k8s_by_kind["ConfigMap"]) | {"finsentry-topics-script"}  # generated by kustomize
    for kind in WORKLOAD_KINDS:
        for name, obj in k8s_by_kind[kind].items():
            spec = obj["spec"]["template"]["spec"]
            for container in containers(obj):
                for source in container.get("envFrom", []):
                    assert source["configMapRef"]["name"] in config_maps, name
                for env in container.get("env", []):
                    ref = env.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        assert ref["key"] in secrets[ref["name"]]["stringData"], f"{name}: {ref}"
                mounts = {m["name"] for m in container.get("volumeMounts", [])}
                assert mounts <= {v["name"] for v in spec.get("volumes", [])}, name
            for volume in spec.get("volumes", []):
                if "secret" in volume:
                    keys = secrets[volume["secret"]["secretName"]]["stringData"]
                    assert {i["key"] for i in volume["secret"]["items"]} <= keys.keys(), name
                if "configMap" in volume:
                    assert volume["configMap"]["name"] in config_maps, name


def test_kafka_ca_file_is_mounted_where_the_config_points(worker, config):
    (container,) = containers(worker)
    cafile = Path(config["FINSENTRY_KAFKA_SSL_CAFILE"])
    volume = next(v for v in worker["spec"]["template"]["spec"]["volumes"] if v["name"] == "kafka-ca")
    mount = next(m for m in container["volumeMounts"] if m["name"] == "kafka-ca")
    assert cafile.parent == Path(mount["mountPath"])
    assert cafile.name in {item["path"] for item in volume["secret"]["items"]}


def test_replicas_and_autoscaling_fit_the_partitions(k8s_by_kind, worker, config, topic_partitions):
    partitions = topic_partitions["news"]
    assert 1 <= worker["spec"]["replicas"] <= partitions
    scaled = k8s_by_kind["ScaledObject"]["finsentry-worker"]["spec"]
    assert scaled["minReplicaCount"] <= worker["spec"]["replicas"] <= scaled["maxReplicaCount"] == partitions
    assert int(config["FINSENTRY_TOPIC_PARTITIONS"]) == partitions


def test_scaled_object_watches_the_worker_group(k8s_by_kind, config, settings_defaults):
    scaled = k8s_by_kind["ScaledObject"]["finsentry-worker"]["spec"]
    assert scaled["scaleTargetRef"]["name"] in k8s_by_kind["Deployment"]
    (trigger,) = scaled["triggers"]
    meta = trigger["metadata"]
    assert trigger["type"] == "kafka"
    assert meta["consumerGroup"] == config["FINSENTRY_GROUP_ID"]
    assert meta["topic"] == settings_defaults["input_topic"]
    assert meta["bootstrapServers"] == config["FINSENTRY_KAFKA_BOOTSTRAP"]
    keda_sasl = {"PLAIN": "plaintext", "SCRAM-SHA-256": "scram_sha256", "SCRAM-SHA-512": "scram_sha512"}
    assert meta["sasl"] == keda_sasl[config["FINSENTRY_KAFKA_SASL_MECHANISM"]]
    assert (meta["tls"] == "enable") == config["FINSENTRY_KAFKA_SECURITY_PROTOCOL"].endswith("SSL")
    assert meta["allowIdleConsumers"] == "false"
    auth = k8s_by_kind["TriggerAuthentication"][trigger["authenticationRef"]["name"]]
    secrets = k8s_by_kind["Secret"]
    for ref in auth["spec"]["secretTargetRef"]:
        assert ref["key"] in secrets[ref["name"]]["stringData"]


def test_disruption_budgets_select_deployments(k8s_by_kind):
    template_labels = [d["spec"]["template"]["metadata"]["labels"] for d in k8s_by_kind["Deployment"].values()]
    assert "finsentry-worker" in k8s_by_kind["PodDisruptionBudget"]
    for name, pdb in k8s_by_kind["PodDisruptionBudget"].items():
        selector = pdb["spec"]["selector"]["matchLabels"]
        assert any(selector.items() <= labels.items() for labels in template_labels), name


def test_gpu_overlay_patches_the_worker_onto_gpus(gpu_overlay, worker, topic_partitions):
    kustomization, patches = gpu_overlay
    assert kustomization["resources"] == ["../../base"]
    deployment_patch = next(doc for docs in patches.values() for doc in docs if doc["kind"] == "Deployment")
    assert deployment_patch["metadata"]["name"] == worker["metadata"]["name"]
    assert 1 <= deployment_patch["spec"]["replicas"] <= topic_partitions["news"]
    pod = deployment_patch["spec"]["template"]["spec"]
    assert pod["nodeSelector"] and pod["tolerations"]
    (container,) = pod["containers"]
    assert container["name"] == containers(worker)[0]["name"], "the patch must merge into the base container"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert {e["name"]: e["value"] for e in container["env"]}["FINSENTRY_DEVICE"] == "cuda"
    assert container["image"] in {image["name"] for image in kustomization["images"]}
    (scaled_patch,) = [p for p in kustomization["patches"] if p.get("target", {}).get("kind") == "ScaledObject"]
    ops = {op["path"]: op["value"] for op in yaml.safe_load(scaled_patch["patch"])}
    assert ops["/spec/minReplicaCount"] <= deployment_patch["spec"]["replicas"] <= ops["/spec/maxReplicaCount"]
    assert ops["/spec/maxReplicaCount"] <= topic_partitions["news"]


def test_image_user_matches_run_as_user(k8s_by_kind):
    dockerfile = (K8S.parent / "Dockerfile").read_text()
    uid, gid = map(int, dockerfile.split("\nUSER ", 1)[1].split()[0].split(":"))
    for deployment in k8s_by_kind["Deployment"].values():
        context = deployment["spec"]["template"]["spec"]["securityContext"]
        assert (context["runAsUser"], context["runAsGroup"]) == (uid, gid)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
@pytest.mark.parametrize("directory", ["base", "overlays/gpu"])
def test_kustomize_builds(directory):
    result = subprocess.run(["kubectl", "kustomize", str(K8S / directory)], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0, result.stderr
    kinds = {doc["kind"] for doc in yaml.safe_load_all(result.stdout) if doc}
    assert {"Deployment", "ScaledObject", "Job", "ConfigMap"} <= kinds


def test_alert_webhooks_come_from_the_secret(worker, k8s_by_kind):
    """Webhook URLs often carry credentials: never a plain value in a manifest."""
    from stream.settings import load_settings

    (container,) = containers(worker)
    (env,) = [e for e in container["env"] if e["name"] == "FINSENTRY_ALERTS__WEBHOOKS"]
    ref = env["valueFrom"]["secretKeyRef"]
    placeholder = k8s_by_kind["Secret"][ref["name"]]["stringData"][ref["key"]]
    assert load_settings(environ={"FINSENTRY_ALERTS__WEBHOOKS": placeholder}).alerts.webhooks == ()


def served_paths(module: str, decorator: str) -> set[str]:
    """Paths a module registers with ``@app.page("/x")`` (faust) or ``@app.get("/x")`` (FastAPI)."""
    import re

    source = (K8S.parents[1] / module).read_text()
    return set(re.findall(rf'@app\.{decorator}\("([^"]+)"', source))


def test_probes_and_scrapes_hit_paths_the_processes_serve(k8s_by_kind, worker, config, settings_defaults,
                                                          prometheus_config):
    """The worker's probe paths are the ones stream/app.py serves, on the settings' default metrics port (which
    the image exposes); the dashboard's on stream/dashboard/app.py."""
    worker_paths = served_paths("stream/app.py", "page")
    (container,) = containers(worker)
    probes = [container[p]["httpGet"] for p in ("startupProbe", "readinessProbe", "livenessProbe")]
    assert {p["path"] for p in probes} | {"/metrics"} <= worker_paths
    assert int(config["FINSENTRY_METRICS_PORT"]) == settings_defaults["metrics_port"]
    assert f"EXPOSE {settings_defaults['metrics_port']}" in (K8S.parent / "Dockerfile").read_text()
    (job,) = [j for j in prometheus_config["scrape_configs"] if j["job_name"] == "finsentry-worker"]
    assert job["metrics_path"] in worker_paths
    (dash,) = containers(k8s_by_kind["Deployment"]["finsentry-dashboard"])
    dashboard_paths = served_paths("stream/dashboard/app.py", "get")
    assert {dash[p]["httpGet"]["path"] for p in ("readinessProbe", "livenessProbe")} <= dashboard_paths


def test_cpu_worker_leaves_a_core_for_its_event_loop(worker):
    (container,) = containers(worker)
    env = {e["name"]: e.get("value") for e in container["env"]}
    threads = int(env["FINSENTRY_TORCH_THREADS"])
    assert 1 <= threads < int(container["resources"]["limits"]["cpu"])
    assert env["OMP_NUM_THREADS"] == str(threads)
