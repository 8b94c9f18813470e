import pytest

from alerts_processor.pipeline.payload import PayloadError, parse_payload
from tests.helpers import alert, payload, sample


def test_samples_parse() -> None:
    parsed = parse_payload(sample("truncated-group"))
    assert parsed.version == "4" and len(parsed.alerts) == 10 and parsed.truncated_alerts == 37


def test_optional_fields_default() -> None:
    parsed = parse_payload(
        {
            "version": "4",
            "status": "firing",
            "receiver": "r",
            "alerts": [{"status": "firing", "labels": {"a": "b"}, "startsAt": "2026-11-30T00:00:00Z"}],
        }
    )
    assert parsed.group_key == "" and parsed.alerts[0].fingerprint == "" and parsed.alerts[0].annotations == {}


@pytest.mark.parametrize(
    ("document", "code", "needle"),
    [
        ([], "invalid_payload", 'not of type "object"'),
        ({"version": "3", "status": "firing", "receiver": "r", "alerts": []}, "unsupported_version", "'3'"),
        ({"status": "firing", "receiver": "r", "alerts": []}, "invalid_payload", '"version" is a required property'),
        (payload() | {"alerts": {}}, "invalid_payload", "payload.alerts"),
        (payload(alert() | {"status": "pending"}), "invalid_payload", "payload.alerts[0].status"),
        (payload(alert() | {"labels": {"a": 1}}), "invalid_payload", "payload.alerts[0].labels.a"),
        (payload(alert() | {"labels": {}}), "invalid_payload", "payload.alerts[0].labels"),
        (payload() | {"truncatedAlerts": -1}, "invalid_payload", "truncatedAlerts"),
    ],
)
def test_bad_payloads_name_the_problem(document: object, code: str, needle: str) -> None:
    with pytest.raises(PayloadError) as info:
        parse_payload(document)
    assert info.value.code == code
    assert needle in info.value.detail


def test_unknown_fields_are_ignored() -> None:
    parsed = parse_payload(payload(alert() | {"extra": {"$where": 1}}) | {"future": True})
    assert len(parsed.alerts) == 1
