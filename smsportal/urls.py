"""URL:er för envägs-SMS."""

from django.urls import path

from smsportal import views, webhooks

app_name = "smsportal"

urlpatterns = [
    path("", views.send_page, name="send"),
    path("utveckling/utkorg/", views.dev_outbox, name="dev_outbox"),
    path("webhooks/sms/<slug:provider>/", webhooks.delivery_report, name="webhook"),
]
