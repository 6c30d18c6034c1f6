"""The accounts reads that every logged-in request makes, compiled once
(`compiled_queries`; plain ORM with COMPILED_QUERIES=0)."""

from accounts.models import Session
from compiled_queries.prepared import PreparedInsert, PreparedObjects

# A request's session with the account it is logged in to, in one query.
SESSION_WITH_USER = PreparedObjects(
    lambda key: Session.objects.select_related("user").filter(session_key=key), key=str
)

# A new session's row (a login), its key drawn beforehand.
NEW_SESSION = PreparedInsert(Session)
