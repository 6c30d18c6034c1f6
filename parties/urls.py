from django.urls import path

from parties import views

app_name = "parties"

urlpatterns = [
    path("", views.PartyListView.as_view(), name="list"),
]
