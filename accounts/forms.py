from django import forms

from .models import User, timezone_choices


class PreferencesForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=timezone_choices,
        label="Time zone",
        help_text="Times are shown in this zone, with its name.",
    )

    class Meta:
        model = User
        fields = ["time_zone", "face_only_mode", "review_muted", "notify_by_email"]
        labels = {
            "face_only_mode": "Face-only review mode",
            "review_muted": "Start review videos muted",
            "notify_by_email": "E-mail me new flags, appeals and missed deadlines (moderators)",
        }
        help_texts = {
            "face_only_mode": "On the evidence page the video frame is blurred or "
            "greyscaled; the face crops stay sharp (b toggles it "
            "for one page).",
            "review_muted": "",
            "notify_by_email": "",
        }
