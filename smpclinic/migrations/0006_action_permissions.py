"""Clinic settings carry a version (edited on their own page), and permissions for each action of the role table (smpclinic.roles.MATRIX), granted to the
groups: clients use the portal through a permission, managers unlock sign-ins through one."""

import django.core.validators
from django.contrib.auth.management import create_permissions
from django.db import migrations, models


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations ran; make them now so the
    # groups hold them as soon as this migration has run.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    from smpclinic.roles import sync_groups

    sync_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("smpclinic", "0005_audit_and_two_factor_setting"),
        ("cases", "0007_action_permissions"),
        ("artists", "0002_date_bounds"),
    ]

    operations = [
        # Clinic settings are edited on a page of their own: a stale form is refused.
        migrations.AddField(
            model_name="clinicsettings",
            name="lock_version",
            field=models.PositiveIntegerField(
                default=1,
                editable=False,
                help_text="Goes up by one on every save; a form carries the one it was opened on.",
            ),
        ),
        migrations.AddField(
            model_name="historicalclinicsettings",
            name="lock_version",
            field=models.PositiveIntegerField(
                default=1,
                editable=False,
                help_text="Goes up by one on every save; a form carries the one it was opened on.",
            ),
        ),
        migrations.AlterModelOptions(
            name="clinicsettings",
            options={
                "permissions": [("manage_sign_ins", "Can unlock sign-ins and reset a second factor")],
                "verbose_name": "clinic settings",
                "verbose_name_plural": "clinic settings",
            },
        ),
        migrations.AlterField(
            model_name="clinicsettings",
            name="laser_check_days",
            field=models.PositiveSmallIntegerField(
                default=14,
                help_text="A healing check 1–2 weeks after laser. 0: schedule none.",
                validators=[django.core.validators.MaxValueValidator(60)],
                verbose_name="days after a laser session to schedule the post-laser check",
            ),
        ),
        migrations.AlterField(
            model_name="historicalclinicsettings",
            name="laser_check_days",
            field=models.PositiveSmallIntegerField(
                default=14,
                help_text="A healing check 1–2 weeks after laser. 0: schedule none.",
                validators=[django.core.validators.MaxValueValidator(60)],
                verbose_name="days after a laser session to schedule the post-laser check",
            ),
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
