"""URL:er för patientens svarssida. Allt annat under /s/ får samma sida som en okänd kod."""

from django.urls import path

from replies import views

app_name = "replies"

urlpatterns = [
    path("<str:code>/oppnad", views.opened, name="opened"),
    path("<str:code>/inga-fler", views.opt_out_page, name="opt_out"),
    path("<path:code>", views.answer, name="answer"),
]
