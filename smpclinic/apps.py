from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_reference_rows(sender, using="default", **kwargs) -> None:
    # Lookup rows and role groups come back after a test flush or a fresh migrate.
    from smpclinic import roles
    from smpclinic.lookups import sync_all_lookups

    sync_all_lookups()
    roles.sync_groups()


class SmpClinicConfig(AppConfig):
    name = "smpclinic"
    verbose_name = "Clinic"

    def ready(self) -> None:
        post_migrate.connect(_sync_reference_rows, sender=self)
        # The idle clock starts at login, whether or not a request has loaded the middleware.
        from smpclinic import middleware  # noqa: F401
        from smpclinic.audit import connect

        connect()  # the sign-in audit
        from smpclinic import unaccent

        unaccent.install()  # accent-insensitive search
