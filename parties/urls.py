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
    path("<int:pk>/rsvp/fewer/", views.ComeWithFewerView.as_view(), name="rsvp_fewer"),
    path(
        "<int:pk>/invite/regenerate/",
        views.RegenerateInviteView.as_view(),
        name="regenerate_invite",
    ),
    path("<int:pk>/calendar.ics", views.CalendarView.as_view(), name="calendar"),
    path("calendar-feed/new/", views.CalendarFeedRenewView.as_view(), name="calendar_feed_renew"),
    path("invite/<str:token>/", views.InviteView.as_view(), name="invite"),
    path("invitation/<str:token>/", views.InvitationView.as_view(), name="invitation"),
    path(
        "invitation/<str:token>/opened/",
        views.InvitationOpenedView.as_view(),
        name="invitation_opened",
    ),
    path("<int:pk>/invitations/", views.InvitationsView.as_view(), name="invitations"),
    path("<int:pk>/invitations/remind/", views.RemindView.as_view(), name="invitations_remind"),
    path("<int:pk>/reply/", views.GuestReplyView.as_view(), name="guest_reply"),
    path("<int:pk>/reply/sent/", views.GuestReplySentView.as_view(), name="guest_reply_sent"),
    path(
        "<int:pk>/reply/<str:token>/",
        views.GuestReplyConfirmView.as_view(),
        name="guest_reply_confirm",
    ),
    path("<int:pk>/menu/", views.DishAddView.as_view(), name="dish_add"),
    path("<int:pk>/menu/<int:dish_id>/edit/", views.DishEditView.as_view(), name="dish_edit"),
    path("<int:pk>/menu/<int:dish_id>/remove/", views.DishRemoveView.as_view(), name="dish_remove"),
    path("<int:pk>/potluck/", views.PotluckView.as_view(), name="potluck"),
    path("<int:pk>/potluck/claim/", views.SlotClaimView.as_view(), name="slot_claim"),
    path("<int:pk>/cohosts/", views.CohostAddView.as_view(), name="cohost_add"),
    path(
        "<int:pk>/cohosts/<int:user_id>/remove/",
        views.CohostRemoveView.as_view(),
        name="cohost_remove",
    ),
    path("<int:pk>/messages/", views.AnnounceView.as_view(), name="announce"),
    path("<int:pk>/guests.csv", views.GuestListCSVView.as_view(), name="guest_list_csv"),
    path("<int:pk>/sheet/", views.GuestSheetView.as_view(), name="guest_sheet"),
]
