import inspect
from dataclasses import MISSING, FrozenInstanceError, dataclass, fields, replace
from datetime import UTC, datetime

import pytest

from alerts_processor import models
from alerts_processor.frozen import quick_init
from alerts_processor.models import Validation, ValidationStatus, WorkloadRef, WorkloadState

RECORDS = [
    cls
    for cls in vars(models).values()
    if isinstance(cls, type) and cls.__module__ == models.__name__ and hasattr(cls, "__dataclass_fields__")
]


def test_every_record_gets_the_quick_init() -> None:
    assert len(RECORDS) >= 12
    for cls in RECORDS:
        assert cls.__init__.__qualname__ == f"{cls.__qualname__}.__init__"
        assert "_set_" in cls.__init__.__code__.co_names[0], cls  # not the dataclass's own


@pytest.mark.parametrize("cls", RECORDS, ids=lambda cls: cls.__name__)
def test_same_signature_as_the_dataclass_init(cls: type) -> None:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert [p.name for p in params] == [f.name for f in fields(cls)]
    for p, f in zip(params, fields(cls), strict=True):
        assert p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        if f.default is not MISSING:
            assert p.default is f.default, f.name
        elif f.default_factory is not MISSING:
            assert p.default is not inspect.Parameter.empty, f.name
        else:
            assert p.default is inspect.Parameter.empty, f.name


def test_fields_are_set_by_position_keyword_and_default() -> None:
    assert Validation(ValidationStatus.VALID).reason is None
    assert Validation(status=ValidationStatus.INVALID, reason="gone") == Validation(ValidationStatus.INVALID, "gone")
    ref = WorkloadRef("Deployment", "web")
    assert (ref.kind, ref.name) == ("Deployment", "web") and ref == WorkloadRef(kind="Deployment", name="web")
    assert hash(ref) == hash(WorkloadRef("Deployment", "web"))
    assert replace(ref, name="api") == WorkloadRef("Deployment", "api")
    with pytest.raises(TypeError):
        WorkloadRef("Deployment")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        WorkloadRef("Deployment", "web", size=3)  # type: ignore[call-arg]


def test_a_default_factory_gives_each_record_its_own_value() -> None:
    def state() -> WorkloadState:
        return WorkloadState("Deployment", "web", "shop", 1, 1, {}, (), (), "1", False, None, ())

    first, second = state(), state()
    assert first.selector == {} and first.labels == {} and first.owner is None and first.created_at is None
    assert first.selector is not second.selector
    given = {"app": "web"}
    assert replace(first, selector=given).selector is given


def test_records_stay_frozen() -> None:
    ref = WorkloadRef("Deployment", "web")
    with pytest.raises(FrozenInstanceError):
        ref.name = "api"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del ref.kind  # type: ignore[misc]
    at = datetime(2026, 11, 30, tzinfo=UTC)
    entry = models.InboxEntry("e1", b"{}", at)
    assert entry.attempts == 0
    with pytest.raises(FrozenInstanceError):
        entry.attempts = 2  # type: ignore[misc]


def test_only_frozen_slotted_dataclasses_take_it() -> None:
    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(slots=True)
    class NotFrozen:
        a: int

    for cls in (NoSlots, NotFrozen):
        with pytest.raises(TypeError, match="frozen, slotted"):
            quick_init(cls)
