"""The menu: the hosts' own dishes, the potluck's wanted courses, and the dishes
guests bring for them."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import UpdateView

from parties import services
from parties.forms import DishForm, PotluckForm
from parties.invites import parse_invite_token
from parties.models import DinnerParty, Dish
from parties.views.base import FORM_ERRORS, PartyActionView


class DishAddView(PartyActionView):
    form_class = DishForm
    form_prefix = "dish"
    heading = _("Add a dish to the menu")

    def act(self, party: DinnerParty, form: DishForm) -> str:
        dish = services.dish_add(
            party=party,
            cook=self.request.user,
            course=form.cleaned_data["course"],
            name=form.cleaned_data["name"],
            **form.tags(),
        )
        return gettext("“%(dish)s” is on the menu.") % {"dish": dish.name}


class PotluckView(PartyActionView):
    heading = _("Potluck: dishes wanted")

    def get_form(self, party: DinnerParty) -> PotluckForm:
        return PotluckForm(self.request.POST, counts={})

    def act(self, party: DinnerParty, form: PotluckForm) -> str:
        services.potluck_set_slots(party=party, wanted=form.cleaned_data)
        return gettext("The potluck is open: guests who are going can now pick a course to bring.")


class SlotClaimView(PartyActionView):
    """A guest who is going brings a dish for a free slot."""

    form_class = DishForm
    form_prefix = "claim"
    heading = _("Bring a dish")

    def parties(self):
        token = parse_invite_token(self.request.POST.get("invite"))
        return DinnerParty.objects.visible_to(self.request.user, invite_token=token)

    def act(self, party: DinnerParty, form: DishForm) -> str:
        dish = services.slot_claim(
            party=party,
            guest=self.request.user,
            course=form.cleaned_data["course"],
            name=form.cleaned_data["name"],
            **form.tags(),
        )
        return gettext("Thank you! You're bringing “%(dish)s” (%(course)s).") % {
            "dish": dish.name,
            "course": dish.get_course_display().lower(),
        }


class DishMixin(LoginRequiredMixin):
    """A dish its cook may change while they can still see its party (a removed
    co-host of a private party cannot); the party's hosts may also take it off
    the menu."""

    def dishes(self, *, include_managed: bool):
        user = self.request.user
        mine = Q(added_by=user, party__in=DinnerParty.objects.visible_to(user))
        if include_managed:
            mine |= Q(party__in=DinnerParty.objects.editable_by(user))
        return Dish.objects.filter(mine).select_related("party__host")


class DishEditView(DishMixin, UpdateView):
    form_class = DishForm
    template_name = "parties/party_action_form.html"
    pk_url_kwarg = "dish_id"

    def get_queryset(self):
        # `party__pk`, not `party_id`: only the former finds nothing for an id
        # beyond the column (Django's related lookups send it on: OverflowError).
        return self.dishes(include_managed=False).filter(party__pk=self.kwargs["pk"])

    def get_form(self, form_class=None) -> DishForm:
        form = super().get_form(form_class)
        if self.object.slot_id:
            # A claimed slot keeps its course; release it to pick another.
            form.fields["course"].disabled = True
        return form

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(
            party=self.object.party,
            heading=gettext("Change “%(dish)s”") % {"dish": self.object.name},
            **kwargs,
        )

    def form_valid(self, form: DishForm) -> HttpResponse:
        services.dish_update(
            dish=self.object,
            name=form.cleaned_data["name"],
            course=form.cleaned_data["course"],
            **form.tags(),
        )
        messages.success(
            self.request, gettext("“%(dish)s” is updated.") % {"dish": self.object.name}
        )
        return redirect(self.object.party)

    def form_invalid(self, form: DishForm) -> HttpResponse:
        messages.error(self.request, FORM_ERRORS)
        return super().form_invalid(form)


class DishRemoveView(DishMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int, dish_id: int) -> HttpResponse:
        dish = get_object_or_404(self.dishes(include_managed=True).filter(party__pk=pk), pk=dish_id)
        services.dish_remove(dish=dish)
        if dish.slot_id and dish.added_by_id == request.user.pk:
            messages.success(
                request, gettext("You're no longer bringing “%(dish)s”.") % {"dish": dish.name}
            )
        else:
            messages.success(request, gettext("“%(dish)s” is off the menu.") % {"dish": dish.name})
        return redirect(dish.party)
