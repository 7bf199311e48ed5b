"""`manage.py seed_demo`: a realistic, deterministic demo clinic (see cases.demo)."""

from __future__ import annotations

import os
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from cases import demo


class Command(BaseCommand):
    help = (
        "Fill an empty database with a deterministic demo clinic: staff, clients and cases in every state, "
        "plans, sessions, follow-ups, consents and photos. Prints the demo logins; the password comes from "
        f"DEMO_PASSWORD (default “{demo.DEFAULT_PASSWORD}”)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--clients",
            type=int,
            default=demo.DEFAULT_CLIENTS,
            help=f"Number of clients (default {demo.DEFAULT_CLIENTS}).",
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed; the same seed gives the same clinic.")
        parser.add_argument(
            "--history-years",
            type=int,
            default=0,
            help=(
                "Make the clinic this many years old: clients also get the courses they finished before the "
                "last three years, and one client a course of twenty sessions with thirty photos "
                "(the volume a clinic chain holds, for benchmarks; default 0)."
            ),
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (but print the logins) if the database already has clients.",
        )

    def handle(self, *args, clients: int, seed: int, history_years: int, if_empty: bool, **options) -> None:
        if clients < 1:
            raise CommandError("--clients must be at least 1.")
        if not 0 <= history_years <= 20:
            raise CommandError("--history-years must be between 0 and 20.")
        password = os.environ.get("DEMO_PASSWORD") or demo.DEFAULT_PASSWORD
        if demo.database_has_data():
            if not if_empty:
                raise CommandError(
                    "The database already has clients or demo logins; seed_demo only fills an empty clinic. "
                    "Use --if-empty to skip quietly, or start from a fresh database."
                )
            self.stdout.write("The database already has data: nothing seeded.")
            self._logins(password, seeded=False)
            return

        started = time.monotonic()
        progress = self.stdout.write if options["verbosity"] > 1 else None
        result = demo.seed(
            clients=clients, seed=seed, password=password, progress=progress, history_years=history_years
        )
        # Fresh statistics for PostgreSQL's planner: right after a bulk load, before autovacuum
        # has run (or where it is off), a report query ran for over 18 s (measured by `make bench`).
        # SQLite is left to its heuristics: with ANALYZE statistics it chose index range
        # scans that made the follow-up and case reports 3–4× slower on the demo data.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(f"Seeded the demo clinic ({clients} clients, seed {seed}) in {elapsed:.1f} s:")
        )
        if options["verbosity"] > 0:
            for name, count in sorted(result.counts.items()):
                self.stdout.write(f"  {name:<34} {count:>9}")
        self._logins(password, seeded=True)

    def _logins(self, password: str, *, seeded: bool) -> None:
        logins = demo.demo_logins()
        if not logins:
            self.stdout.write("No demo logins in this database.")
            return
        self.stdout.write("")
        self.stdout.write("Demo logins:")
        for username, text in logins:
            self.stdout.write(f"  {username:<14} {text}")
        note = "" if seeded else " (as set when the demo was seeded)"
        self.stdout.write(f"Password for all of them: {password}{note}")
        self._second_factor_codes([username for username, _text in logins])

    def _second_factor_codes(self, usernames: list[str]) -> None:
        """Managers and administrators sign in with a second step: the demo gives each of
        them single-use recovery codes (a new set once they are used up), so anyone trying
        the demo can sign in without an authenticator app, and shows the key of the demo's
        own app device (until someone sets up another) for trying a real app."""
        from django.contrib.auth.models import User
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from smpclinic import twofactor

        for user in User.objects.filter(username__in=usernames).order_by("username"):
            if not twofactor.required(user):
                continue
            codes = twofactor.unused_recovery_codes(user) or twofactor.new_recovery_codes(user)
            shown = ", ".join(twofactor.shown(code) for code in codes[:5])
            self.stdout.write(f"  {user.username:<14} after the password, a recovery code (each works once): {shown}")
            app = TOTPDevice.objects.filter(user=user, name=demo.DEMO_APP_NAME, confirmed=True).first()
            if app is not None:
                self.stdout.write(f"  {'':<14} or an authenticator app's code, its key: {twofactor.app_key(app)}")
