"""Forms of the mailbox pages: search, and the names of new or renamed folders."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from webmail.mailbox import store

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class SearchForm(forms.Form):
    """Turned into IMAP SEARCH criteria; line breaks and other controls become spaces."""

    TEXT_CRITERIA = (("q", "TEXT"), ("from", "FROM"), ("to", "TO"), ("subject", "SUBJECT"), ("body", "BODY"))

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    scope = forms.ChoiceField(
        label=_("Where"), required=False, choices=[("folder", _("This folder")), ("all", _("All folders"))]
    )
    # "from" is added in __init__: it is a Python keyword.
    to = forms.CharField(label=_("To"), required=False, max_length=200)
    subject = forms.CharField(label=_("Subject"), required=False, max_length=200)
    body = forms.CharField(label=_("Body"), required=False, max_length=200)
    since = forms.DateField(label=_("Since"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    before = forms.DateField(label=_("Before"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    unread = forms.BooleanField(label=_("Unread only"), required=False)
    attachments = forms.BooleanField(label=_("With attachments"), required=False)

    def __init__(self, data=None, **kwargs) -> None:
        if data is not None:
            data = {key: data.get(key, "") for key in data}
            for name, _criterion in self.TEXT_CRITERIA:
                if name in data:
                    data[name] = _CONTROL.sub(" ", data[name])
        super().__init__(data, **kwargs)
        self.fields["from"] = forms.CharField(label=_("From"), required=False, max_length=200)
        self.order_fields(["q", "scope", "from", "to", "subject", "body", "since", "before", "unread"])

    def criteria(self) -> list:
        data = self.cleaned_data
        criteria: list = []
        for name, criterion in self.TEXT_CRITERIA:
            value = " ".join((data.get(name) or "").split())
            if value:
                criteria += [criterion, value]
        if data.get("since"):
            criteria += ["SINCE", data["since"]]
        if data.get("before"):
            criteria += ["BEFORE", data["before"]]
        if data.get("unread"):
            criteria.append("UNSEEN")
        return criteria

    @property
    def is_empty(self) -> bool:
        return not self.criteria() and not self.cleaned_data.get("attachments")


class FolderNameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, strip=False)

    def __init__(self, *args, delimiter: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.delimiter = delimiter

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        problem = store.folder_name_problem(name, self.delimiter)
        if problem:
            raise forms.ValidationError(problem)
        return name.strip()
