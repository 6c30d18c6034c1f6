"""The parties views, one module per kind of page (see each module); what the
URLconfs import is here."""

from parties.views.hosts import AnnounceView, CohostAddView, CohostRemoveView, RegenerateInviteView
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
from parties.views.rsvp import ComeWithFewerView, RSVPView

__all__ = [
    "AnnounceView",
    "CalendarView",
    "CohostAddView",
    "ComeWithFewerView",
    "CohostRemoveView",
    "DishAddView",
    "DishEditView",
    "DishRemoveView",
    "HomeView",
    "InviteView",
    "PartyCreateView",
    "PartyDeleteView",
    "PartyDetailView",
    "PartyListView",
    "PartyUpdateView",
    "PotluckView",
    "RSVPView",
    "RegenerateInviteView",
    "SlotClaimView",
]
