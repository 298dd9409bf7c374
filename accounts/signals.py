"""What happens to accounts that other apps act on, so that accounts never imports them.

Receivers of ``smtp_password_replaced`` return how many messages they queued again; the admin
adds those up to tell the admin what resumed.
"""

from __future__ import annotations

from django.dispatch import Signal

# An admin replaced the SMTP password of an account whose sending was held because the server
# refused the old one. Sent inside the admin's transaction with ``account`` (a MailAccount).
smtp_password_replaced = Signal()
