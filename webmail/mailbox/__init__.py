"""The mailbox app (app label "webmail"): the envelope cache of each IMAP folder, its sync, and
the pages that list, search and show mail."""
