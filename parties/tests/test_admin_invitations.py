"""Invitations and replies waiting for their email link in the Django admin:
read-only lists, filtered by state and party, searched by address, each in a
fixed number of queries; a staff host sees only their own parties' rows."""

import pytest
from django.contrib.auth.models import Permission

from accounts.tests.factories import UserFactory
from parties.models import (
    DeliveryStatus,
    EmailDelivery,
    Invitation,
    InvitationState,
    PendingReply,
)
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import client_for
from parties.tests.test_admin import change, changelist

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(db):
    return client_for(UserFactory(is_staff=True, is_superuser=True))


def invitations(count: int, *, party=None, state=InvitationState.INVITED) -> list[Invitation]:
    party = party or DinnerPartyFactory(title="Paella night")
    return [
        Invitation.objects.create(
            party=party,
            email=f"friend{number}-{party.pk}@example.com",
            name=f"Friend {number}",
            invited_by=party.host,
            state=state,
            delivery=EmailDelivery.objects.create(
                template="invitation", to="x@example.com", subject="s", status=DeliveryStatus.SENT
            ),
        )
        for number in range(count)
    ]


def test_the_invitation_list_filters_by_state_and_party_and_searches_by_address(admin_client_):
    paella = invitations(2)
    tapas = invitations(1, party=DinnerPartyFactory(title="Tapas"), state=InvitationState.OPENED)

    by_state = admin_client_.get(changelist("invitation"), {"state__exact": "opened"})
    by_party = admin_client_.get(changelist("invitation"), {"party__id__exact": paella[0].party_id})
    searched = admin_client_.get(changelist("invitation"), {"q": tapas[0].email.upper()})

    assert list(by_state.context["cl"].result_list) == tapas
    assert list(by_party.context["cl"].result_list) == paella
    assert list(searched.context["cl"].result_list) == tapas
    page = by_state.content.decode()
    assert "Paella night" in page
    assert "Tapas" in page


@pytest.mark.parametrize("count", [1, 20])
def test_the_invitation_list_takes_a_fixed_number_of_queries(
    admin_client_, count, django_assert_max_num_queries
):
    invitations(count)

    with django_assert_max_num_queries(9):
        response = admin_client_.get(changelist("invitation"))

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == count
    assert "Sent" in response.content.decode()  # each email's fate


def test_an_invitation_is_read_only_and_none_is_added_in_the_admin(admin_client_):
    (invitation,) = invitations(1)

    page = admin_client_.get(change(invitation))
    posted = admin_client_.post(change(invitation), {"email": "evil@example.com"})

    assert page.status_code == 200
    assert 'name="email"' not in page.content.decode()
    assert posted.status_code == 403
    assert Invitation.objects.get(pk=invitation.pk).email == invitation.email
    assert admin_client_.get(changelist("invitation") + "add/").status_code == 403


def test_a_missing_invitation_in_the_admin_is_not_a_500(admin_client_):
    response = admin_client_.get(change(Invitation(pk=99999)))
    assert response.status_code == 302  # Django's "doesn't exist" message, back to the list


def test_a_staff_host_sees_only_their_own_parties_invitations_and_replies(db):
    host = UserFactory(is_staff=True)
    host.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_invitation", "view_pendingreply"])
    )
    mine = invitations(1, party=DinnerPartyFactory(host=host))
    theirs = invitations(1)
    PendingReply.objects.create(
        party=mine[0].party, name="A", email="a@example.com", status="going"
    )
    PendingReply.objects.create(
        party=theirs[0].party, name="B", email="b@example.com", status="going"
    )
    client = client_for(host)

    listed = client.get(changelist("invitation"))
    replies = client.get(changelist("pendingreply"))

    assert list(listed.context["cl"].result_list) == mine
    assert [reply.email for reply in replies.context["cl"].result_list] == ["a@example.com"]
    assert client.get(change(theirs[0])).status_code == 302


@pytest.mark.parametrize("count", [1, 20])
def test_the_waiting_replies_list_filters_by_status_in_a_fixed_number_of_queries(
    admin_client_, count, django_assert_max_num_queries
):
    party = DinnerPartyFactory()
    for number in range(count):
        PendingReply.objects.create(
            party=party, name=f"N{number}", email=f"n{number}@example.com", status="going"
        )
    PendingReply.objects.create(party=party, name="M", email="m@example.com", status="maybe")

    with django_assert_max_num_queries(9):
        response = admin_client_.get(changelist("pendingreply"), {"status__exact": "going"})

    assert len(response.context["cl"].result_list) == count
