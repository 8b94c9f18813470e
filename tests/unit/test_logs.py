import io
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from alerts_processor.logs import _RequestIdFilter, new_request_id, request_id
from alerts_processor.models import SanitizedAlert, ValidatedAlert
from alerts_processor.pipeline.committer import GroupCommitter
from alerts_processor.pipeline.enrich import Enricher
from alerts_processor.pipeline.payload import PayloadParser, parse_payload
from alerts_processor.pipeline.processor import AlertProcessor
from alerts_processor.pipeline.sanitize import Sanitizer
from alerts_processor.pipeline.service import PipelineService
from alerts_processor.pipeline.validate import Validator
from tests.fakes import FakeK8sClient, InMemoryAlertsRepository, RecordingMetrics
from tests.helpers import sample, wait_until


def test_request_ids_are_sanitised() -> None:
    assert new_request_id("am-1.2:3_x") == "am-1.2:3_x"
    for hostile in (None, "", "a b", "x" * 65, "<script>", "id\nINFO forged"):
        made = new_request_id(hostile)
        assert made != hostile and len(made) == 32


def test_filter_stamps_records_with_the_current_request_id() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(logging.Formatter("%(message)s %(request_id)s"))
    logger = logging.getLogger("test.request_id")
    logger.addHandler(handler)
    logger.propagate = False
    token = request_id.set("req-42")
    try:
        logger.warning("hello")
    finally:
        request_id.reset(token)
        logger.removeHandler(handler)
    assert stream.getvalue().strip() == "hello req-42"


class SpyValidator(Validator):
    def __init__(self) -> None:
        super().__init__(FakeK8sClient())
        self.seen: list[str | None] = []
        self.lock = threading.Lock()

    def validate(self, alert: SanitizedAlert) -> ValidatedAlert:
        with self.lock:
            self.seen.append(request_id.get())
        return super().validate(alert)


def test_the_request_id_travels_with_each_alert_into_the_pool() -> None:
    validator, repo, metrics = SpyValidator(), InMemoryAlertsRepository(), RecordingMetrics()
    with ThreadPoolExecutor(3) as pool:
        processor = AlertProcessor(Sanitizer(), validator, Enricher(FakeK8sClient()), repo, metrics)
        committer = GroupCommitter(repo, metrics)
        service = PipelineService(processor, committer, PayloadParser(), repo, pool, metrics, 100, 30, 3)
        token = request_id.set("req-from-alertmanager")
        try:
            document = sample("app-batch-mixed")
            service.accept(parse_payload(document), json.dumps(document).encode())
        finally:
            request_id.reset(token)
        wait_until(lambda: len(validator.seen) == 3)
    committer.stop()
    assert validator.seen == ["req-from-alertmanager"] * 3
