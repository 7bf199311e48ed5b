"""Django's model backend, reading a signed-in user and their permissions in one query."""

from __future__ import annotations

import functools

from django.contrib.auth import backends, get_user_model
from django.contrib.auth.models import Permission
from django.db import router
from django.db.models import Aggregate, F, OuterRef, Q, Subquery, TextField, Value
from django.db.models.functions import Concat


class _Joined(Aggregate):
    """The values of a group joined by commas: STRING_AGG on PostgreSQL, GROUP_CONCAT on
    SQLite (whose separator is a comma by default)."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", template="%(function)s(%(expressions)s)")


def _permission_names(user_ref) -> Subquery:
    """ "app_label.codename" of every permission the user holds, their own and their
    groups', joined by commas (duplicates possible)."""
    held = (
        Permission.objects.filter(Q(user=user_ref) | Q(group__user=user_ref))
        .order_by()
        .annotate(one=Value(1))
        .values("one")
        .annotate(names=_Joined(Concat(F("content_type__app_label"), Value("."), F("codename"))))
        .values("names")
    )
    return Subquery(held, output_field=TextField())


# A primary key no user has, put in the compiled query where the real one goes.
_ANY_ID = -7_357_913


@functools.cache
def _user_query(alias: str) -> tuple[str, tuple, int]:
    """The SQL reading one user with `_permission_names`, compiled once per database and
    process: the query (a subquery joining four tables) costs more to build and compile
    than to run, and it runs on every request of a signed-in person. Returned with its
    parameters and the position of the user's id among them."""
    users = get_user_model()._default_manager.using(alias)
    query = users.annotate(_permission_names=_permission_names(OuterRef("pk"))).filter(pk=_ANY_ID).query
    sql, params = query.get_compiler(alias).as_sql()
    return sql, tuple(params), list(params).index(_ANY_ID)


class ModelBackend(backends.ModelBackend):
    """Every page checks a permission (smpclinic.roles). The user of a session is read
    with their own and their groups' permissions in the same query (a subquery joining
    their names), which fills the cache Django's backend keeps on the user object; a user
    loaded otherwise has them read in one query on the first check."""

    def get_user(self, user_id):
        user_model = get_user_model()
        alias = router.db_for_read(user_model)
        sql, params, at = _user_query(alias)
        params = (*params[:at], user_model._meta.pk.get_prep_value(user_id), *params[at + 1 :])
        user = next(iter(user_model._default_manager.raw(sql, params, using=alias)), None)
        if user is None:
            return None
        if not self.user_can_authenticate(user):
            return None
        if not user.is_superuser:
            user._perm_cache = set(filter(None, (user._permission_names or "").split(",")))
        return user

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                perms = Permission.objects.all()
            else:
                perms = Permission.objects.filter(Q(user=user_obj) | Q(group__user=user_obj))
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in perms.values_list("content_type__app_label", "codename").distinct()
            }
        return user_obj._perm_cache
