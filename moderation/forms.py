import re

from django import forms
from django.contrib.auth import get_user_model

from accounts.models import Team

from .models import MODERATOR_REASONS, QUEUES, REASONS_BY_DECISION, Decision, ReasonCode, clock

_CLOCK = re.compile(r"^(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d+)?)$")


def parse_clock(text: str) -> float:
    """'12', '12.5', '00:12', '1:02:03' -> seconds."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise forms.ValidationError(
            f"“{text}” is not a time: write seconds (12.5) or minutes:seconds (00:12)."
        )
    a, b, c = match.groups()
    parts = [float(x) for x in (a, b) if x is not None]
    seconds = float(c)
    for n, value in enumerate(reversed(parts)):
        seconds += value * 60 ** (n + 1)
    return seconds


class ClockField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "inputmode": "decimal",
                    "placeholder": "00:12",
                    "size": 7,
                    "pattern": r"[0-9:.]*",
                }
            ),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return clock(value) if isinstance(value, (int, float)) else value

    def to_python(self, value):
        value = super().to_python(value)
        return parse_clock(value) if value else None


def _check_reason_fits(form) -> None:
    decision, reason = form.cleaned_data.get("decision"), form.cleaned_data.get("reason")
    if decision and reason and reason not in REASONS_BY_DECISION[decision]:
        form.add_error(
            "reason",
            f"“{ReasonCode(reason).label}” is not a reason for “{Decision(decision).label}”.",
        )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.RadioSelect)
    reason = forms.ChoiceField(choices=[("", "— choose a reason —"), *MODERATOR_REASONS])
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    person_index = forms.TypedChoiceField(
        label="Person", required=False, coerce=int, empty_value=None, choices=[("", "Whole video")]
    )
    start_s = ClockField(label="From")
    end_s = ClockField(label="to")
    next_queue = forms.ChoiceField(
        required=False, widget=forms.HiddenInput, choices=[(q, q) for q in QUEUES]
    )

    def __init__(self, *args, persons=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person_index"].choices = [("", "Whole video")] + [
            (p.index, p.label) for p in persons
        ]

    def clean(self):
        cleaned = super().clean()
        _check_reason_fits(self)
        if (cleaned.get("start_s") is None) != (cleaned.get("end_s") is None):
            self.add_error("end_s", "Give both ends of the time range, or neither.")
        return cleaned

    def decision_data(self) -> dict:
        return {
            k: self.cleaned_data[k]
            for k in ("decision", "reason", "note", "person_index", "start_s", "end_s")
        }


class BulkDecisionForm(forms.Form):
    items = forms.TypedMultipleChoiceField(coerce=int, choices=(), widget=forms.MultipleHiddenInput)
    decision = forms.ChoiceField(choices=Decision.choices)
    reason = forms.ChoiceField(choices=[("", "— reason —"), *MODERATOR_REASONS])
    note = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any ids: each is checked by the service (unknown ones are reported as skipped).
        self.fields["items"].valid_value = lambda value: str(value).isdigit()

    def clean(self):
        cleaned = super().clean()
        _check_reason_fits(self)
        return cleaned


class SecondReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            (Decision.FAKE.value, Decision.FAKE.label),
            (Decision.REAL.value, Decision.REAL.label),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.ChoiceField(choices=[("", "— choose a reason —"), *MODERATOR_REASONS])

    def clean(self):
        cleaned = super().clean()
        _check_reason_fits(self)
        return cleaned


class AssignForm(forms.Form):
    assigned_to = forms.ModelChoiceField(label="Moderator", required=False, queryset=None)
    assigned_team = forms.ModelChoiceField(
        label="Team", required=False, queryset=Team.objects.all()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from accounts.models import Role

        self.fields["assigned_to"].queryset = (
            get_user_model()
            .objects.filter(
                role__in=[Role.MODERATOR, Role.SENIOR_MODERATOR, Role.ADMIN], is_active=True
            )
            .order_by("username")
        )


class AppealForm(forms.Form):
    message = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Why do you think the decision is wrong? You can appeal once.",
    )
