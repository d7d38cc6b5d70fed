"""URL:er för statistiksidan."""

from django.urls import path

from stats import views

app_name = "stats"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("manader.csv", views.monthly_csv, name="csv"),
]
