"""The Django project package and the mailbox UI."""

from webmail.celery import app as celery_app

__all__ = ["celery_app"]
