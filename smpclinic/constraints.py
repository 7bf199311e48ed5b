"""Model validation that asks the database about all of a model's check constraints at once."""

from __future__ import annotations

from contextlib import nullcontext

from django.core.exceptions import FieldError, ValidationError
from django.db import DatabaseError, connections, models, router, transaction
from django.db.models import BooleanField, CheckConstraint, Q, Value
from django.db.models.functions import Coalesce
from django.db.models.sql import Query
from django.db.models.sql.constants import SINGLE


class ChecksInOneQuery(models.Model):
    """`full_clean()` with the model's check constraints evaluated in one query.

    Django validates each `CheckConstraint` with a query of its own inside a savepoint:
    three round trips a constraint, 27 for a laser session's nine, about 9 ms of every
    session saved on PostgreSQL. Here the same conditions, on the same field values,
    are the columns of one `SELECT` (one savepoint), a condition that comes out NULL
    counting as met, as in the database's own CHECK and in Django's validation. What is
    reported does not change: the same messages and codes, in the constraints' order,
    a constraint on a field left out (`exclude`) not checked. Unique constraints are
    validated as Django does; so is everything if the one query fails.
    """

    class Meta:
        abstract = True

    def validate_constraints(self, exclude=None):
        using = router.db_for_write(self.__class__, instance=self)
        errors = {}
        for model_class, constraints in self.get_constraints():
            checks = [c for c in constraints if isinstance(c, CheckConstraint)]
            failed = _failed_checks(self, model_class, checks, exclude, using) if len(checks) > 1 else None
            for constraint in constraints:
                try:
                    if failed is not None and isinstance(constraint, CheckConstraint):
                        if constraint in failed:
                            raise ValidationError(
                                constraint.get_violation_error_message(), code=constraint.violation_error_code
                            )
                        continue
                    constraint.validate(model_class, self, exclude=exclude, using=using)
                except ValidationError as error:
                    if getattr(error, "code", None) == "unique" and len(getattr(constraint, "fields", ())) == 1:
                        errors.setdefault(constraint.fields[0], []).append(error)
                    else:
                        errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)


def _failed_checks(instance, model_class, checks, exclude, using) -> list | None:
    """The check constraints `instance` breaks, asked in one query (what `Q.check` asks of
    one constraint); None if that query could not be made or run."""
    query = Query(None)
    for name, value in instance._get_field_expression_map(meta=model_class._meta, exclude=exclude).items():
        query.add_annotation(value if hasattr(value, "resolve_expression") else Value(value), name, select=False)
    asked = {}
    for constraint in checks:
        alias = f"_check_{len(asked)}"
        try:
            query.add_annotation(Coalesce(Q(constraint.condition), True, output_field=BooleanField()), alias)
        except FieldError:
            continue  # it names a field that is not validated (`exclude`): not checked, as in Django
        asked[alias] = constraint
    if not asked:
        return []
    connection = connections[using]
    try:
        with transaction.atomic(using=using) if connection.in_atomic_block else nullcontext():
            row = query.get_compiler(using=using).execute_sql(SINGLE)
    except DatabaseError:
        return None
    met = dict(zip(query.annotation_select, row, strict=True))
    return [constraint for alias, constraint in asked.items() if not met[alias]]
