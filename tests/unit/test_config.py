from pathlib import Path

import pytest

from alerts_processor.config import Settings, env_name


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.bind == "127.0.0.1:8080"
    assert settings.store_url == "sqlite:///var/alerts.db"
    assert settings.k8s_mode == "auto"


def test_values_are_typed() -> None:
    settings = Settings.from_env({"ALERTS_QUEUE_MAX": "50", "ALERTS_K8S_READ_TIMEOUT": "0.5", "ALERTS_K8S_MODE": "off"})
    assert settings.queue_max == 50 and settings.k8s_read_timeout == 0.5 and settings.k8s_mode == "off"


def test_secrets_may_come_from_files(tmp_path: Path) -> None:
    secret = tmp_path / "url"
    secret.write_text("mongodb://user:pw@db/alerts\n")
    assert Settings.from_env({"ALERTS_STORE_URL_FILE": str(secret)}).store_url == "mongodb://user:pw@db/alerts"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALERTS_QUEUE_MAX": "many"}, "ALERTS_QUEUE_MAX='many' is not a valid int"),
        ({"ALERTS_QUEUE_MAX": "0"}, "ALERTS_QUEUE_MAX must be at least 1"),
        ({"ALERTS_K8S_MODE": "maybe"}, "ALERTS_K8S_MODE must be one of"),
    ],
)
def test_bad_values_say_which_setting(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    from dataclasses import fields

    missing = [env_name(f.name) for f in fields(Settings) if env_name(f.name) not in readme]
    assert not missing, f"README.md does not document {missing}"


def test_secrets_stay_out_of_repr() -> None:
    settings = Settings(webhook_token="tok-123", api_token="api-456", webhook_basic_auth="am:pw-789",
                        store_url="postgresql://u:pg-000@db/alerts")  # fmt: skip
    text = repr(settings)
    for secret in ("tok-123", "api-456", "pw-789", "pg-000"):
        assert secret not in text


@pytest.mark.parametrize(("changes", "message"), [
    ({"webhook_basic_auth": "no-colon"}, "user:password"),
    ({"tls_cert": "/c.pem"}, "go together"),
    ({"tls_client_ca": "/ca.pem"}, "needs ALERTS_TLS_CERT"),
    ({"inbox_lease": 5.0, "inbox_sweep_interval": 5.0}, "twice ALERTS_INBOX_SWEEP_INTERVAL"),
])  # fmt: skip
def test_inconsistent_settings_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings(**changes)  # type: ignore[arg-type]
