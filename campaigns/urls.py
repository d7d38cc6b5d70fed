"""URL:er för personalens akut-SMS-sidor."""

from django.urls import path

from campaigns import views
from campaigns.models import Campaign

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/status/", views.campaign_snapshot, name="snapshot"),
    path("<int:pk>/tillsatt/", views.campaign_status, {"status": Campaign.Status.FILLED}, name="fill"),
    path("<int:pk>/avsluta/", views.campaign_status, {"status": Campaign.Status.CLOSED}, name="close"),
    path("<int:pk>/samtal/", views.call_outcome, name="outcome"),
    path("<int:pk>/oppna-igen/", views.campaign_reopen, name="reopen"),
    path("<int:pk>/visa-nummer/", views.reveal_phone, name="reveal"),
    path("<int:pk>/tack-sms/", views.thanks, name="thanks"),
    path("<int:pk>/nasta-grupp/", views.campaign_send_next, name="send_next"),
    path("<int:pk>/mottagare/", views.campaign_add_recipients, name="add_recipients"),
]
