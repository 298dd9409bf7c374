"""The compose form: what a person typed, checked field by field, turned into a ``compose.Draft``."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Identity, User
from outbox import richtext, signatures
from outbox.compose import (
    SEND_LATER_HORIZON,
    Attachment,
    Draft,
    check_header_text,
    check_message_ids,
    estimated_size,
    guess_content_type,
    one_line,
    parse_addresses,
    send_later_horizon_text,
    size_limit_text,
    too_large_text,
)
from outbox.drafts import Fields
from outbox.models import AnswerFlag
from outbox.replies import How
from webmail.mailbox.models import Folder
from webmail.protocol import imap

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
MAX_SIGNATURE_CHARACTERS = 2000
ANSWER_FLAGS = {
    How.REPLY: AnswerFlag.ANSWERED,
    How.REPLY_ALL: AnswerFlag.ANSWERED,
    How.FORWARD: AnswerFlag.FORWARDED,
    How.FORWARD_ATTACHED: AnswerFlag.FORWARDED,
}


# Django cannot take several files in one field out of the box: the pattern from its
# documentation ("Uploading multiple files").
class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single_file_clean = super().clean
        if isinstance(data, list | tuple):
            files = [single_file_clean(item, initial) for item in data]
        else:
            files = [single_file_clean(data, initial)]
        return [f for f in files if f]


class LocalDateTimeField(forms.DateTimeField):
    """A naive date and time (as ``datetime-local`` sends it), read in ``zone``, not the server's."""

    zone: ZoneInfo | None = None

    def to_python(self, value):
        with timezone.override(self.zone or timezone.get_current_timezone()):
            return super().to_python(value)

    def prepare_value(self, value):
        if isinstance(value, datetime):
            with timezone.override(self.zone or timezone.get_current_timezone()):
                return super().prepare_value(value)
        return value


class IdentitySelect(forms.Select):
    """Each sender address carries its signature (text and HTML), for the composer to swap."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        identity = getattr(value, "instance", None)
        if isinstance(identity, Identity) and (text := signatures.text_block(identity)):
            option["attrs"]["data-signature"] = text
            option["attrs"]["data-signature-html"] = signatures.html_block(identity)
        return option


ADDRESS_HINT = gettext_lazy("Ann <ann@example.org>, bob@example.org")


def _address_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=20_000,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": ADDRESS_HINT}),
    )


class ComposeForm(forms.Form):
    identity = forms.ModelChoiceField(
        label=gettext_lazy("From"),
        queryset=None,  # the user's own identities, set in __init__
        empty_label=None,
        error_messages={"invalid_choice": gettext_lazy("Choose one of your own sender addresses.")},
        widget=IdentitySelect,
    )
    to = _address_field(gettext_lazy("To"))
    cc = _address_field(gettext_lazy("Cc"))
    bcc = _address_field(gettext_lazy("Bcc"))
    subject = forms.CharField(label=gettext_lazy("Subject"), required=False, max_length=998)
    body = forms.CharField(
        label=gettext_lazy("Message"), required=False, strip=False, widget=forms.Textarea(attrs={"rows": 14})
    )
    # The rich-text editor's HTML (static/js/editor.js), cleaned again here; empty without it.
    body_html = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)
    plain = forms.BooleanField(label=gettext_lazy("Plain text"), required=False)
    attachments = MultipleFileField(label=gettext_lazy("Attachments"), required=False)
    delivery_receipt = forms.BooleanField(label=gettext_lazy("Request a delivery receipt"), required=False)
    # An answer's thread headers, carried through the form as the composer page set them.
    in_reply_to = forms.CharField(required=False, max_length=998, widget=forms.HiddenInput)
    references = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)
    # The message answered ("<folder id>:<UID>", one of the user's own) and how: it is flagged
    # \Answered or $Forwarded once this one is sent.
    answers = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    how = forms.ChoiceField(
        required=False, choices=[("", "")] + [(how.value, how.value) for how in How], widget=forms.HiddenInput
    )
    # The composer's draft (outbox.drafts): its id, and the revision this page last saved.
    draft_id = forms.UUIDField(required=False, widget=forms.HiddenInput)
    revision = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    send_at = LocalDateTimeField(
        label=gettext_lazy("Send later"),
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.zone = user.zone
        identities = user.identities.select_related("account")
        self.fields["identity"].queryset = identities
        default = next((i for i in identities if i.is_default), None)
        if default is not None and not self.initial.get("identity"):
            self.fields["identity"].initial = default.pk
        if "plain" not in self.initial:
            self.fields["plain"].initial = user.compose_plain
        # The editor starts from this; the hidden field itself stays empty until the editor fills
        # it, so that without JavaScript the text typed in the textarea is what is sent.
        # Cleaned here, whatever made it: static/js/editor.js takes it without cleaning it again.
        start = "" if self.is_bound else str(self.initial.get("html", ""))
        self.initial_html = richtext.sanitize_composed(start) if start.strip() else ""
        self.max_message_bytes = settings.WEBMAIL_MAX_MESSAGE_BYTES
        self.too_large_text = too_large_text()
        self.fields["attachments"].help_text = size_limit_text()
        send_at = self.fields["send_at"]
        send_at.zone = self.zone
        send_at.help_text = _("Optional. In your time zone, %(zone)s. Leave empty to send now.") % {
            "zone": self.zone.key
        }
        now = timezone.localtime(timezone.now(), self.zone)
        send_at.widget.attrs["min"] = now.strftime(DATETIME_LOCAL)
        send_at.widget.attrs["max"] = (now + SEND_LATER_HORIZON).strftime(DATETIME_LOCAL)

    def clean_to(self):
        return parse_addresses(one_line(self.cleaned_data["to"]))

    def clean_cc(self):
        return parse_addresses(one_line(self.cleaned_data["cc"]))

    def clean_bcc(self):
        return parse_addresses(one_line(self.cleaned_data["bcc"]))

    def clean_subject(self):
        return check_header_text(one_line(self.cleaned_data["subject"]), _("The subject"))

    def clean_body(self) -> str:
        # Browsers post a textarea with CRLF line ends; the signature blocks and the MIME use LF.
        return self.cleaned_data["body"].replace("\r\n", "\n")

    def clean_body_html(self) -> str:
        html = self.cleaned_data["body_html"]
        return richtext.sanitize_composed(html) if html.strip() else ""

    def clean_in_reply_to(self):
        return check_message_ids(self.cleaned_data["in_reply_to"], many=False)

    def clean_references(self):
        return check_message_ids(self.cleaned_data["references"], many=True)

    def clean_answers(self) -> tuple[int, int] | None:
        value = self.cleaned_data["answers"]
        if not value:
            return None
        folder_id, _colon, uid = value.partition(":")
        try:
            answers = int(folder_id), int(uid)
        except ValueError:
            answers = None
        owned = answers is not None and Folder.objects.filter(pk=answers[0], account__user=self.user).exists()
        if answers is None or not owned or not imap.is_uid(answers[1]):
            raise ValidationError(_("The message this answers is not one of yours."))
        return answers

    def clean_attachments(self):
        files = self.cleaned_data["attachments"]
        for f in files:
            check_header_text(one_line(f.name or ""), _("An attachment's name"))
        return files

    def clean_send_at(self):
        send_at = self.cleaned_data["send_at"]
        if send_at is not None and send_at <= timezone.now():
            raise ValidationError(_("Choose a time in the future, or leave this empty to send now."))
        if send_at is not None and send_at > timezone.now() + SEND_LATER_HORIZON:
            raise ValidationError(send_later_horizon_text())
        return send_at

    def clean(self):
        cleaned = super().clean()
        # Refuse what cannot fit before reading the uploads; enqueue checks the final bytes.
        files = cleaned.get("attachments") or []
        html = "" if cleaned.get("plain") else cleaned.get("body_html") or ""
        estimate = estimated_size(cleaned.get("body") or "", [f.size for f in files], html)
        if estimate > settings.WEBMAIL_MAX_MESSAGE_BYTES:
            self.add_error("attachments" if files else "body", too_large_text(estimate))
        if not self.errors and not (cleaned.get("to") or cleaned.get("cc") or cleaned.get("bcc")):
            self.add_error("to", _("Add at least one recipient."))
        return cleaned

    @property
    def attachments_to_choose_again(self) -> bool:
        """A browser cannot fill in a file field again: after an error, the files must be chosen anew."""
        return self.is_bound and bool(self.files.getlist(self.add_prefix("attachments"))) and bool(self.errors)

    def _bodies(self) -> tuple[str, str]:
        """The text and HTML to send: the editor's HTML and its plain twin, else the text typed;
        the chosen sender's signature in it (outbox.signatures.settle_*)."""
        data = self.cleaned_data
        identity, identities = data["identity"], list(self.user.identities.all())
        html = "" if data["plain"] else data["body_html"]
        if html:
            html = signatures.settle_html(html, identity, identities)
            return richtext.plain_text(html), html
        return signatures.settle_text(data["body"], identity, identities), ""

    def draft(self) -> Draft:
        data = self.cleaned_data
        body, html = self._bodies()
        return Draft(
            identity=data["identity"],
            to=data["to"],
            cc=data["cc"],
            bcc=data["bcc"],
            subject=data["subject"],
            body=body,
            html=html,
            attachments=[
                Attachment(
                    filename=one_line(f.name or "").strip() or "attachment",
                    content_type=guess_content_type(f.name or "", f.content_type),
                    data=f.read(),
                )
                for f in data["attachments"]
            ],
            send_at=data["send_at"],
            delivery_receipt=data["delivery_receipt"],
            in_reply_to=data["in_reply_to"],
            references=data["references"],
            answers=data["answers"],
            answer_flag=ANSWER_FLAGS.get(data["how"], "") if data["answers"] else "",
        )


class DraftForm(ComposeForm):
    """A save of the composer: the same fields and the same checks of what is the user's own
    (identity, the message answered), but what is typed is kept as typed; it is checked when the
    message is sent. Files come one at a time, to their own endpoint (outbox.draft_views)."""

    def clean_to(self) -> str:
        return self.cleaned_data["to"]

    def clean_cc(self) -> str:
        return self.cleaned_data["cc"]

    def clean_bcc(self) -> str:
        return self.cleaned_data["bcc"]

    def clean_subject(self) -> str:
        return self.cleaned_data["subject"]

    def clean_send_at(self):
        send_at = self.cleaned_data["send_at"]
        # Kept only while it could still be a sending time: Send checks it again.
        if send_at is not None and send_at > timezone.now() + SEND_LATER_HORIZON:
            return None
        return send_at

    def clean(self):
        # A draft that could never be sent is not stored either: the page keeps it and says why.
        cleaned = self.cleaned_data
        estimate = estimated_size(cleaned.get("body") or "", [], cleaned.get("body_html") or "")
        if estimate > settings.WEBMAIL_MAX_MESSAGE_BYTES:
            raise ValidationError(too_large_text(estimate), code="too_large")
        return cleaned

    def typed(self) -> Fields:
        data = self.cleaned_data
        return Fields(
            identity=data["identity"],
            to=data["to"],
            cc=data["cc"],
            bcc=data["bcc"],
            subject=data["subject"],
            body=data["body"],
            html="" if data["plain"] else data["body_html"],
            delivery_receipt=data["delivery_receipt"],
            send_at=data["send_at"],
            in_reply_to=data["in_reply_to"],
            references=data["references"],
            answers=data["answers"],
            how=data["how"] or "",
        )


class SignatureForm(forms.ModelForm):
    """A person's own signatures for one of their identities: plain, and rich (the composer's
    editor, cleaned with the composer's allow-list, no images)."""

    class Meta:
        model = Identity
        fields = ("signature", "signature_html")
        widgets = {"signature": forms.Textarea(attrs={"rows": 5}), "signature_html": forms.HiddenInput}

    def clean_signature(self) -> str:
        signature = self.cleaned_data["signature"].replace("\r\n", "\n").strip("\n")
        if len(signature) > MAX_SIGNATURE_CHARACTERS:
            raise ValidationError(
                _("A signature can be at most %(count)d characters.") % {"count": MAX_SIGNATURE_CHARACTERS}
            )
        return signature

    def clean_signature_html(self) -> str:
        html = self.cleaned_data["signature_html"]
        if len(html) > 10 * MAX_SIGNATURE_CHARACTERS:
            raise ValidationError(_("The rich signature is too long."))
        cleaned = richtext.sanitize_composed(html, images=False) if html.strip() else ""
        # An editor left empty (only blank lines) means "use the plain signature".
        return cleaned if richtext.plain_text(cleaned).strip() else ""
