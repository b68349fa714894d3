import pytest

from stream.errors import ConfigError
from stream.settings import load_settings, redact_url


def test_defaults_match_the_contract():
    s = load_settings(environ={})
    assert (s.kafka_bootstrap, s.redis_url, str(s.model_dir), s.input_topic, s.output_topic, s.dlq_topic,
            s.group_id, s.metrics_port) == ("127.0.0.1:9092", "redis://127.0.0.1:6379/0", "models/default", "news",
                                            "news.scored", "news.dlq", "finsentry", 9100)
    assert [w.name for w in s.parsed_windows] == ["5m", "1h", "1d"]


def test_flags_beat_env_beat_file(tmp_path, monkeypatch):
    path = tmp_path / "fs.toml"
    path.write_text('max_batch = 10\nmax_wait_s = 0.5\ninput_topic = "from-file"\nwindows = ["1m"]\n')
    monkeypatch.setenv("FINSENTRY_MAX_BATCH", "20")
    monkeypatch.setenv("FINSENTRY_MAX_WAIT_S", "0.25")
    s = load_settings({"max_batch": 30, "input_topic": None}, config_file=path)
    assert (s.max_batch, s.max_wait_s, s.input_topic, s.windows) == (30, 0.25, "from-file", ("1m",))


def test_config_file_from_env_and_comma_windows(tmp_path, monkeypatch):
    path = tmp_path / "fs.toml"
    path.write_text('[finsentry]\ngroup_id = "g2"\n')
    monkeypatch.setenv("FINSENTRY_CONFIG", str(path))
    monkeypatch.setenv("FINSENTRY_WINDOWS", "30s, 10m")
    s = load_settings()
    assert s.group_id == "g2" and s.windows == ("30s", "10m")


def test_settings_are_frozen():
    s = load_settings(environ={})
    with pytest.raises(Exception):
        s.max_batch = 5


@pytest.mark.parametrize("flags, match", [
    ({"max_batch": 0}, "max_batch"),
    ({"device": "tpu"}, "device"),
    ({"windows": "5m,nope"}, "positive duration"),
    ({"broker_session_timeout_s": 6, "broker_heartbeat_interval_s": 3}, "a third"),
    ({"kafka_security_protocol": "SASL_SSL"}, "kafka_sasl_username"),
    ({"no_such_setting": 1}, "no_such_setting"),
])
def test_invalid_settings_name_the_problem(flags, match):
    with pytest.raises(ConfigError, match=match):
        load_settings(flags, environ={})


def test_unknown_keys_in_file(tmp_path):
    path = tmp_path / "fs.toml"
    path.write_text("max_bach = 3\n")
    with pytest.raises(ConfigError, match=r"unknown settings \['max_bach'\]"):
        load_settings(config_file=path, environ={})


def test_secrets_never_appear_in_repr_or_logs():
    s = load_settings({"redis_password": "hunter2", "kafka_security_protocol": "SASL_SSL",
                       "kafka_sasl_username": "u", "kafka_sasl_password": "s3cret",
                       "redis_url": "redis://app:urlpass@redis:6379/0"}, environ={})
    shown = repr(s) + str(s.redacted())
    assert "hunter2" not in shown and "s3cret" not in shown and "urlpass" not in str(s.redacted())
    assert s.redis_password.get_secret_value() == "hunter2"


def test_redact_url():
    assert redact_url("rediss://u:p@h:1/0") == "rediss://u:***@h:1/0"
    assert redact_url("redis://:p@h:1") == "redis://:***@h:1"
    assert redact_url("redis://h:1") == "redis://h:1"


def test_environ_argument_replaces_the_process_environment(monkeypatch):
    monkeypatch.setenv("FINSENTRY_MAX_BATCH", "7")
    assert load_settings().max_batch == 7
    assert load_settings(environ={}).max_batch == 256
    assert load_settings(environ={"FINSENTRY_MAX_BATCH": "9"}).max_batch == 9


def test_alerts_are_on_by_default_with_nested_rules_from_env_and_file(tmp_path):
    s = load_settings(environ={})
    assert s.alerts_enabled and s.alerts_active and s.alerts.ewma.enabled
    path = tmp_path / "fs.toml"
    path.write_text("[finsentry.alerts.ewma]\nlimit = 4.5\n[finsentry.alerts.cusum]\nenabled = false\n")
    s = load_settings(config_file=path, environ={"FINSENTRY_ALERTS__EWMA__LAM": "0.2"})
    assert (s.alerts.ewma.limit, s.alerts.ewma.lam, s.alerts.cusum.enabled) == (4.5, 0.2, False)
    assert not load_settings(environ={"FINSENTRY_ALERTS__ENABLED": "false"}).alerts_active
    with pytest.raises(ConfigError, match=r"alerts: .*ewma\.lam: expected a number"):
        load_settings({"alerts": {"ewma": {"lam": 7}}}, environ={})


def test_worker_flags_switch_alerts_off():
    from stream.cli import WORKER_FLAGS, settings_from, worker_parser

    args = worker_parser().parse_args(["--no-alerts", "--max-batch", "32"])
    s = settings_from(args, WORKER_FLAGS)
    assert not s.alerts_enabled and s.max_batch == 32
    assert settings_from(worker_parser().parse_args([]), WORKER_FLAGS).alerts_enabled


def test_webhook_secrets_are_masked_in_logs_but_reach_a_worker_process():
    from stream.worker_process import settings_env

    s = load_settings({"alerts": {"webhooks": [{"url": "https://hooks.example/x", "secret": "whsec"}]}},
                      environ={})
    assert "whsec" not in str(s.redacted()) and "whsec" not in repr(s)
    child = load_settings(environ=settings_env(alerts=s.alerts))
    assert child.alerts.webhooks[0].secret.get_secret_value() == "whsec"
