"""The one composition root: a dependency-injector container naming every concrete adapter."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from dependency_injector import containers, providers
from prometheus_client import CollectorRegistry

from alerts_processor.adapters.buffered_metrics import BufferedMetrics
from alerts_processor.adapters.kubernetes import build_k8s_client
from alerts_processor.adapters.metrics import PrometheusMetrics
from alerts_processor.config import Settings
from alerts_processor.interfaces import IAlertsRepository, IK8sClient, IMetrics
from alerts_processor.pipeline.committer import GroupCommitter
from alerts_processor.pipeline.enrich import Enricher
from alerts_processor.pipeline.k8s_cache import CachingK8sClient
from alerts_processor.pipeline.payload import PayloadLimits, PayloadParser
from alerts_processor.pipeline.processor import AlertProcessor
from alerts_processor.pipeline.retention import Retention
from alerts_processor.pipeline.sanitize import Sanitizer
from alerts_processor.pipeline.service import PipelineService, utcnow
from alerts_processor.pipeline.sweeper import InboxSweeper
from alerts_processor.pipeline.validate import Validator
from alerts_processor.stores import build_repository


def buffered_metrics_resource(target: IMetrics) -> Iterator[IMetrics]:
    """Metrics buffered in memory and flushed once a second by one thread (flushed again at shutdown)."""
    metrics = BufferedMetrics(target)
    metrics.start()
    yield metrics
    metrics.stop()


def repository_resource(settings: Settings) -> Iterator[IAlertsRepository]:
    """The store, closed when the container shuts down."""
    repository = build_repository(settings)
    yield repository
    repository.close()


def executor_resource(threads: int) -> Iterator[ThreadPoolExecutor]:
    """The bounded pool; shutting down waits for queued alerts (the graceful drain)."""
    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="pipeline")
    yield executor
    executor.shutdown(wait=True)


def committer_resource(repository: IAlertsRepository, metrics: IMetrics) -> Iterator[GroupCommitter]:
    """The group-commit writer thread; stopped after the pool drained, so it writes what the pool prepared."""
    committer = GroupCommitter(repository, metrics, max_batch=repository.group_size)
    yield committer
    committer.stop()


def sweeper_resource(
    pipeline: PipelineService, repository: IAlertsRepository, metrics: IMetrics, settings: Settings
) -> Iterator[InboxSweeper]:
    """The inbox sweeper thread (which also applies retention), stopped before the pool drains."""
    retention = Retention(repository, settings.retention_days, utcnow)
    sweeper = InboxSweeper(pipeline, repository, metrics, settings.inbox_sweep_interval, retention)
    sweeper.start()
    yield sweeper
    sweeper.stop()


def payload_parser(settings: Settings) -> PayloadParser:
    """The webhook schema with the configured input limits (replays use the same one)."""
    limits = PayloadLimits(
        max_alerts=settings.max_batch_alerts,
        max_labels=settings.max_labels,
        max_label_length=settings.max_label_length,
        max_annotation_length=settings.max_annotation_length,
        max_depth=settings.max_json_depth,
    )
    return PayloadParser(limits)


def cached(client: IK8sClient, settings: Settings, metrics: IMetrics) -> IK8sClient:
    """Wrap the client in the read cache unless the TTL is 0."""
    if settings.k8s_cache_ttl <= 0:
        return client
    return CachingK8sClient(
        client,
        settings.k8s_cache_ttl,
        metrics,
        stable_ttl=settings.k8s_stable_ttl,
        list_after=settings.k8s_list_after,
    )


class Container(containers.DeclarativeContainer):
    """Built in create_app(); tests override `settings`, `k8s_client` or `repository` with fakes."""

    wiring_config = containers.WiringConfiguration(packages=["alerts_processor.blueprints"])

    settings = providers.Singleton(Settings.from_env)
    metrics_registry = providers.Singleton(CollectorRegistry)
    prometheus = providers.Singleton(PrometheusMetrics, metrics_registry)
    metrics = providers.Resource(buffered_metrics_resource, prometheus)

    repository = providers.Resource(repository_resource, settings)
    k8s_client = providers.Singleton(build_k8s_client, settings, metrics)
    k8s = providers.Singleton(cached, k8s_client, settings, metrics)

    sanitizer = providers.Singleton(Sanitizer)
    validator = providers.Singleton(Validator, k8s)
    enricher = providers.Singleton(Enricher, k8s, settings.provided.release_window)

    executor = providers.Resource(executor_resource, settings.provided.pipeline_threads)
    parser = providers.Singleton(payload_parser, settings)
    processor = providers.Singleton(AlertProcessor, sanitizer, validator, enricher, repository, metrics)
    committer = providers.Resource(committer_resource, repository, metrics)
    pipeline = providers.Singleton(
        PipelineService,
        processor=processor,
        committer=committer,
        parser=parser,
        repository=repository,
        executor=executor,
        metrics=metrics,
        queue_max=settings.provided.queue_max,
        inbox_lease=settings.provided.inbox_lease,
        inbox_max_attempts=settings.provided.inbox_max_attempts,
    )
    sweeper = providers.Resource(sweeper_resource, pipeline, repository, metrics, settings)
