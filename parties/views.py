from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView


class PartyListView(LoginRequiredMixin, TemplateView):
    template_name = "parties/dinnerparty_list.html"
