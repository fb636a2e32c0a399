from django import forms
from django.conf import settings


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Video file",
        allow_empty_file=False,
        widget=forms.ClearableFileInput(attrs={"accept": "video/*"}),
    )

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > settings.DETECTION_MAX_UPLOAD_BYTES:
            limit_mb = settings.DETECTION_MAX_UPLOAD_BYTES // (1024 * 1024)
            raise forms.ValidationError(f"The file is larger than the {limit_mb} MB limit.")
        return f
