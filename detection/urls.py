from django.urls import path

from . import views

app_name = "detection"

urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("upload/", views.upload, name="upload"),
    path("jobs/<uuid:job_id>/", views.job_detail, name="job_detail"),
    path("jobs/<uuid:job_id>/status/", views.job_status, name="job_status"),
    path("jobs/<uuid:job_id>/video/", views.video_file, name="video_file"),
    path("faces/<int:face_id>.jpg", views.face_crop, name="face_crop"),
]
