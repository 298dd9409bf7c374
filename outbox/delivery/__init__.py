"""The submission worker: claim due messages, submit them, record what happened.

- ``claiming``: a run takes due messages with a conditional UPDATE stamping its own lease.
- ``outcomes``: what an attempt comes to for the message and each recipient (pure decisions).
- ``writes``: the marks and the settled results, each described once for PostgreSQL and the ORM.
- ``postgres``: the PostgreSQL fast path's connection and statements.
- ``journal``: the run's database writers, on two threads of their own.
- ``run``: a run, answering a doorbell for one account's due mail.
- ``actions``: holds, the sweeper and the user's buttons.

Nothing here imports ``outbox.tasks``: a run that must ring the workers again says so with the
``mail_still_due`` signal.
"""

from outbox.delivery.actions import cancel, first_due, hold_account, release_hold, resend, retry_now, sweep
from outbox.delivery.claiming import CLAIM_BATCH, claim, sender_allowed
from outbox.delivery.journal import Journal, NotMarked, close_database_threads
from outbox.delivery.outcomes import UNCERTAIN_TEXT, Claimed, EnvelopeOutcome, Settlement, backoff, settle
from outbox.delivery.run import RUN_BUDGET_SECONDS, Run, deliver, mail_still_due
from outbox.delivery.writes import renew_leases, write_marks, write_results

__all__ = [
    "CLAIM_BATCH",
    "RUN_BUDGET_SECONDS",
    "UNCERTAIN_TEXT",
    "Claimed",
    "EnvelopeOutcome",
    "Journal",
    "NotMarked",
    "Run",
    "Settlement",
    "backoff",
    "cancel",
    "claim",
    "close_database_threads",
    "deliver",
    "first_due",
    "hold_account",
    "mail_still_due",
    "release_hold",
    "renew_leases",
    "resend",
    "retry_now",
    "sender_allowed",
    "settle",
    "sweep",
    "write_marks",
    "write_results",
]
