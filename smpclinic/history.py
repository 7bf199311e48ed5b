"""The clinical models' history (django-simple-history), made cheaper on every save."""

from __future__ import annotations

from django.utils.functional import cached_property
from simple_history import manager, models


class _HistoryDescriptor(manager.HistoryDescriptor):
    """`Model.history`, whose manager class is made once. simple-history builds a new
    class (inspecting every method of its QuerySet) at each access, and it accesses the
    descriptor itself at every save it records."""

    @cached_property
    def _manager_class(self):
        return self.manager_class.from_queryset(self.queryset_class)

    def __get__(self, instance, owner):
        return self._manager_class(self.model, instance)


class HistoricalRecords(models.HistoricalRecords):
    """simple-history's `HistoricalRecords` with two savings, the records themselves
    unchanged:

    - the record of an insert does not read the many-to-many rows: a row saved for the
      first time cannot have any yet (they need its primary key), so the read always came
      back empty. Adding them afterwards (`zones.set(…)`) writes a "changed" record
      holding them, as before;
    - `Model.history` makes its manager class once (`_HistoryDescriptor`)."""

    def finalize(self, sender, **kwargs):
        super().finalize(sender, **kwargs)
        descriptor = sender.__dict__.get(self.manager_name)
        if type(descriptor) is manager.HistoryDescriptor:
            setattr(
                sender,
                self.manager_name,
                _HistoryDescriptor(descriptor.model, descriptor.manager_class, descriptor.queryset_class),
            )

    def create_historical_record_m2ms(self, history_instance, instance):
        if history_instance.history_type == "+":
            return
        super().create_historical_record_m2ms(history_instance, instance)
