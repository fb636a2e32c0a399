from django import forms

from .models import MODERATOR_REASONS, Decision


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.RadioSelect)
    reason = forms.ChoiceField(choices=[("", "— choose a reason —"), *MODERATOR_REASONS])
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class AppealForm(forms.Form):
    message = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Why do you think the decision is wrong? You can appeal once.",
    )
