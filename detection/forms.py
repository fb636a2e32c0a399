from django import forms
from django.conf import settings

from .models import Profile


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Video file",
        allow_empty_file=False,
        widget=forms.ClearableFileInput(attrs={"accept": "video/*"}),
    )
    profile = forms.ChoiceField(
        label="Analysis",
        choices=Profile.choices,
        required=False,
        help_text="Thorough looks at twice the frames and takes about twice as long.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["profile"].initial = settings.DETECTION_DEFAULT_PROFILE

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > settings.DETECTION_MAX_UPLOAD_BYTES:
            limit_mb = settings.DETECTION_MAX_UPLOAD_BYTES // (1024 * 1024)
            raise forms.ValidationError(f"The file is larger than the {limit_mb} MB limit.")
        return f
