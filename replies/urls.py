"""URL:er för patientens svarssida."""

from django.urls import path

from replies import views

app_name = "replies"

urlpatterns = [
    path("<str:code>", views.answer, name="answer"),
    path("<str:code>/oppnad", views.opened, name="opened"),
]
