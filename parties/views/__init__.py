"""The parties views, one module per kind of page (see each module); what the
URLconfs import is here."""

from parties.views.feed import CalendarFeedRenewView, CalendarFeedView
from parties.views.hosts import (
    AnnounceView,
    CohostAddView,
    CohostRemoveView,
    GuestListCSVView,
    GuestSheetView,
    RegenerateInviteView,
)
from parties.views.invitations import (
    InvitationOpenedView,
    InvitationsView,
    InvitationView,
    RemindView,
)
from parties.views.menu import DishAddView, DishEditView, DishRemoveView, PotluckView, SlotClaimView
from parties.views.pages import (
    CalendarView,
    HomeView,
    InviteView,
    PartyCreateView,
    PartyDeleteView,
    PartyDetailView,
    PartyListView,
    PartyUpdateView,
)
from parties.views.preview import GuestReplyConfirmView, GuestReplySentView, GuestReplyView
from parties.views.rsvp import ComeWithFewerView, RSVPView

__all__ = [
    "AnnounceView",
    "CalendarFeedRenewView",
    "CalendarFeedView",
    "CalendarView",
    "CohostAddView",
    "ComeWithFewerView",
    "CohostRemoveView",
    "DishAddView",
    "DishEditView",
    "DishRemoveView",
    "GuestListCSVView",
    "GuestSheetView",
    "GuestReplyConfirmView",
    "GuestReplySentView",
    "GuestReplyView",
    "HomeView",
    "InvitationView",
    "InvitationOpenedView",
    "InvitationsView",
    "InviteView",
    "PartyCreateView",
    "PartyDeleteView",
    "PartyDetailView",
    "PartyListView",
    "PartyUpdateView",
    "PotluckView",
    "RSVPView",
    "RegenerateInviteView",
    "RemindView",
    "SlotClaimView",
]
