"""Real mail servers (Dovecot IMAP, a scriptable SMTP submission server) for tests."""
