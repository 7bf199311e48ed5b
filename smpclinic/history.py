"""The clinical models' history (django-simple-history), with one saving on every insert."""

from __future__ import annotations

from simple_history import models


class HistoricalRecords(models.HistoricalRecords):
    """simple-history's `HistoricalRecords`, except that the record of an insert does not
    read the many-to-many rows: a row saved for the first time cannot have any yet (they
    need its primary key), so the read always came back empty. Adding them afterwards
    (`zones.set(…)`) writes a "changed" record holding them, as before."""

    def create_historical_record_m2ms(self, history_instance, instance):
        if history_instance.history_type == "+":
            return
        super().create_historical_record_m2ms(history_instance, instance)
