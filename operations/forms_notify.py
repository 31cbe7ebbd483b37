"""Forms of the notification pages: my settings and a plan's webhook endpoint."""

from __future__ import annotations

from django import forms

from operations.models import NotificationSettings
from operations.models.notifications import EventType
from supportplan.models import validate_timezone


class TimeInput(forms.TimeInput):
    input_type = "time"


class NotificationSettingsForm(forms.ModelForm):
    timezone = forms.CharField(
        max_length=64, validators=[validate_timezone], help_text="IANA name, e.g. Europe/Berlin."
    )

    class Meta:
        model = NotificationSettings
        fields = ["timezone", "email_enabled", "digest_mode", "digest_time", "quiet_start", "quiet_end"]
        widgets = {
            "digest_time": TimeInput(format="%H:%M"),
            "quiet_start": TimeInput(format="%H:%M"),
            "quiet_end": TimeInput(format="%H:%M"),
        }
        labels = {"email_enabled": "Send me e-mails", "digest_mode": "Task reminders"}


class WebhookEndpointForm(forms.Form):
    name = forms.CharField(max_length=120)
    url = forms.URLField(max_length=500, assume_scheme="https", help_text="https only; a public host.")
    event_types = forms.MultipleChoiceField(
        choices=EventType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )
    active = forms.BooleanField(required=False, initial=True)
