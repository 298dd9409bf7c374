"""The Celery application: JSON only, late acknowledgement, one message prefetched at a time.

Task state lives in our own tables, so there is no result backend. Tasks are published with
``transaction.on_commit`` by the code that creates the rows they name.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webmail.settings")

app = Celery("webmail")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    result_backend=None,
    # A task is acknowledged after it ran, and re-delivered if the worker died under it; the
    # outbox tasks are safe to run twice because they claim rows with conditional UPDATEs.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
app.autodiscover_tasks()
