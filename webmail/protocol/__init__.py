"""Mail protocols: IMAP sessions and FETCH/QRESYNC parsing, SMTP submission, delivery status
notifications, TLS contexts and certificate checks.

Nothing here imports the apps (accounts, outbox, webmail.mailbox): the apps call down into these
modules, never the reverse. import-linter holds the rule (see pyproject.toml).
"""
