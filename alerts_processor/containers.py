"""The one composition root: a dependency-injector container naming every concrete adapter."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from dependency_injector import containers, providers

from alerts_processor.adapters.kubernetes import build_k8s_client
from alerts_processor.config import Settings
from alerts_processor.interfaces import IAlertsRepository, IK8sClient
from alerts_processor.pipeline.enrich import Enricher
from alerts_processor.pipeline.k8s_cache import CachingK8sClient
from alerts_processor.pipeline.sanitize import Sanitizer
from alerts_processor.pipeline.service import PipelineService
from alerts_processor.pipeline.sweeper import InboxSweeper
from alerts_processor.pipeline.validate import Validator
from alerts_processor.stores import build_repository


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


def sweeper_resource(pipeline: PipelineService, interval: float) -> Iterator[InboxSweeper]:
    """The inbox sweeper thread, stopped before the pool drains."""
    sweeper = InboxSweeper(pipeline, interval)
    sweeper.start()
    yield sweeper
    sweeper.stop()


def cached(client: IK8sClient, ttl: float) -> IK8sClient:
    """Wrap the client in the read cache unless the TTL is 0."""
    return CachingK8sClient(client, ttl) if ttl > 0 else client


class Container(containers.DeclarativeContainer):
    """Built in create_app(); tests override `settings`, `k8s_client` or `repository` with fakes."""

    wiring_config = containers.WiringConfiguration(packages=["alerts_processor.blueprints"])

    settings = providers.Singleton(Settings.from_env)

    repository = providers.Resource(repository_resource, settings)
    k8s_client = providers.Singleton(build_k8s_client, settings)
    k8s = providers.Singleton(cached, k8s_client, settings.provided.k8s_cache_ttl)

    sanitizer = providers.Singleton(Sanitizer)
    validator = providers.Singleton(Validator, k8s)
    enricher = providers.Singleton(Enricher, k8s, settings.provided.release_window)

    executor = providers.Resource(executor_resource, settings.provided.pipeline_threads)
    pipeline = providers.Singleton(
        PipelineService,
        sanitizer=sanitizer,
        validator=validator,
        enricher=enricher,
        repository=repository,
        executor=executor,
        queue_max=settings.provided.queue_max,
        inbox_lease=settings.provided.inbox_lease,
        inbox_max_attempts=settings.provided.inbox_max_attempts,
    )
    sweeper = providers.Resource(sweeper_resource, pipeline, settings.provided.inbox_sweep_interval)
