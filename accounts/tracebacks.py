"""Error reports that cannot show a mail password: the debug page (WEBMAIL_DEBUG=1) and the
report mailed to ADMINS read a traceback's local variables, library frames included.

- A ``Secret`` (a decrypted password) shows as stars wherever it is.
- Every variable of a frame called from one that holds a Secret is hidden: that is where the
  password travels as plain text (imaplib's ``_command``, aiosmtplib's AUTH encoding). The order
  of a traceback's frames tells which frames these are, coroutines included, whose callers
  Python does not keep once they have finished.
- ``sensitive_variables`` and ``sensitive_post_parameters`` apply under DEBUG too: Django applies
  them only when DEBUG is off, and the debug page is where a password would be seen.
"""

from __future__ import annotations

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from accounts.crypto import Secret


def holds_secret(value: object, depth: int = 2) -> bool:
    """A Secret, or a tuple, list, set or dict holding one (two levels down)."""
    if isinstance(value, Secret):
        return True
    if depth <= 0:
        return False
    try:
        if isinstance(value, dict):
            return any(holds_secret(item, depth - 1) for item in value.values())
        if isinstance(value, (tuple, list, set, frozenset)):
            return any(holds_secret(item, depth - 1) for item in value)
    except Exception:  # a container that cannot be looked through is treated as holding one
        return True
    return False


class SecretSafeReporterFilter(SafeExceptionReporterFilter):
    def is_active(self, request) -> bool:
        return True

    def cleanse_special_types(self, request, value):
        if holds_secret(value):
            return self.cleansed_substitute
        return super().cleanse_special_types(request, value)


class SecretSafeExceptionReporter(ExceptionReporter):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not isinstance(self.filter, SecretSafeReporterFilter):
            self.filter = SecretSafeReporterFilter()

    def get_exception_traceback_frames(self, exc_value, tb):
        # Outermost frame first: once a frame holds a Secret, the frames after it were called
        # from it (directly or not) while the password was in reach.
        inside = False
        for frame in super().get_exception_traceback_frames(exc_value, tb):
            if inside:
                frame["vars"] = [(name, self.filter.cleansed_substitute) for name, _value in frame.get("vars", ())]
            elif frame.get("tb") is not None and any(
                holds_secret(value) for value in frame["tb"].tb_frame.f_locals.values()
            ):
                inside = True
            yield frame
