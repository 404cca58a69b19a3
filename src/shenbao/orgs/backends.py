"""The authentication backend: Django's ModelBackend, whose `get_user` (run once per request by
AuthenticationMiddleware) also reads the user's role assignments in the same SQL statement.

Nearly every page asks what the user may do, and that started with a second statement reading the roles. Here
they come with the user as one text column (`role:organisation_id,…`, GROUP_CONCAT on SQLite, STRING_AGG on
PostgreSQL), parsed into `user._sb_role_pairs`, which `orgs.selectors.role_pairs` answers from. They are read
afresh on every request, so a revoked role is gone at the next page.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.db.models import Aggregate, CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat

from shenbao.orgs.models import RoleAssignment, User


class _Joined(Aggregate):
    """Texts joined by the given separator (SQLite GROUP_CONCAT(x, sep), PostgreSQL STRING_AGG(x, sep))."""

    function = "GROUP_CONCAT"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="STRING_AGG", **extra_context)


def _roles_text():
    pair = Concat("role", Value(":"), Coalesce(Cast("organisation_id", CharField()), Value("")),
                  output_field=CharField())
    return Subquery(RoleAssignment.objects.filter(user=OuterRef("pk")).order_by().values("user")
                    .annotate(text=_Joined(pair, Value(","))).values("text")[:1], output_field=CharField())


def parse_roles(text: str | None) -> list[tuple[str, int | None]]:
    pairs = []
    for item in (text or "").split(","):
        if item:
            role, _sep, org = item.partition(":")
            pairs.append((role, int(org) if org else None))
    return pairs


def user_with_roles(user_id):
    """The user (or None) with `_sb_role_pairs` set, in one statement."""
    user = User._default_manager.annotate(_sb_roles_text=_roles_text()).filter(pk=user_id).first()
    if user is not None:
        user._sb_role_pairs = parse_roles(user._sb_roles_text)
    return user


class ModelBackend(DjangoModelBackend):
    def get_user(self, user_id):
        user = user_with_roles(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
