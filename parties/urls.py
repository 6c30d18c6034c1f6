from django.urls import path

from parties import views

app_name = "parties"

urlpatterns = [
    path("", views.PartyListView.as_view(), name="list"),
    path("new/", views.PartyCreateView.as_view(), name="create"),
    path("<int:pk>/", views.PartyDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.PartyUpdateView.as_view(), name="update"),
    path("<int:pk>/delete/", views.PartyDeleteView.as_view(), name="delete"),
    path("<int:pk>/rsvp/", views.RSVPView.as_view(), name="rsvp"),
    path(
        "<int:pk>/invite/regenerate/",
        views.RegenerateInviteView.as_view(),
        name="regenerate_invite",
    ),
    path("<int:pk>/calendar.ics", views.CalendarView.as_view(), name="calendar"),
    path("invite/<str:token>/", views.InviteView.as_view(), name="invite"),
]
