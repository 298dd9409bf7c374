"""Events about mail accounts that other apps act on, so that the app that notices an event
never imports the app that acts on it (accounts and the mailbox never import the outbox).

Receivers of ``smtp_password_replaced`` return how many messages they queued again; the admin
adds those up to tell the admin what resumed. Receivers of ``delivery_report_found`` return how
many recipients the report changed.
"""

from __future__ import annotations

from django.dispatch import Signal

# An admin replaced the SMTP password of an account whose sending was held because the server
# refused the old one. Sent inside the admin's transaction with ``account`` (a MailAccount).
smtp_password_replaced = Signal()

# Mailbox sync found a delivery status notification (a bounce or delay report) in one of the
# account's folders. Sent with ``account_id`` (the MailAccount's id), ``report`` (a
# webmail.protocol.dsn.DeliveryReport) and ``where`` (folder name and UID, for the log).
delivery_report_found = Signal()
