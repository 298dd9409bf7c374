from celery import shared_task
from django.core.management import call_command

from accounts.models import ConnectionCheck


@shared_task(ignore_result=True)
def clear_expired_sessions() -> None:
    call_command("clearsessions")


@shared_task(ignore_result=True)
def prune_connection_checks() -> int:
    deleted, _ = ConnectionCheck.objects.older_than_days(30).delete()
    return deleted
