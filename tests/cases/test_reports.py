"""The numbers of each manager report, on small hand-computed datasets."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from cases.choices import (
    AdverseEventChoice,
    CaseStatus,
    Fitzpatrick,
    FollowUpStatus,
    IssueKind,
    PlanStatus,
    SessionStatus,
    Zone,
)
from cases.models import AdverseEventKind
from cases.reporting import charts, reports
from cases.reporting.reports import Period
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date
Q1 = Period(D(2026, 1, 1), D(2026, 3, 31))
H1 = Period(D(2026, 1, 1), D(2026, 6, 30))
FEB_1 = D(2026, 2, 1)


def _at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12, 0)))


def _rows(table) -> dict:
    return {row[0]: row[1:] for row in table.rows}


def _archive(record, manager_user):
    record.archive(by=manager_user, reason="Entered twice")


# --- Period -----------------------------------------------------------------------


def test_default_period_is_the_last_twelve_months():
    period = Period.default(today=D(2026, 11, 25))
    assert (period.start, period.end) == (D(2025, 12, 1), D(2026, 11, 25))
    assert len(period.months()) == 12
    assert Period.default(today=D(2026, 1, 3)).start == D(2025, 2, 1)


def test_months_cover_the_period_across_a_year_end():
    assert Period(D(2025, 11, 15), D(2026, 2, 1)).months() == [
        D(2025, 11, 1),
        D(2025, 12, 1),
        D(2026, 1, 1),
        D(2026, 2, 1),
    ]
    assert str(Period(D(2026, 1, 1), D(2026, 3, 31))) == "1 Jan 2026 to 31 Mar 2026"


# --- 1. Cases -----------------------------------------------------------------------


def test_cases_by_status_and_new_cases_per_month(manager_user):
    factories.CaseFactory(opened_on=D(2026, 1, 10), status=CaseStatus.ASSESSMENT)
    factories.CaseFactory(opened_on=D(2026, 1, 20), status=CaseStatus.ASSESSMENT)
    factories.CaseFactory(opened_on=D(2026, 3, 5), status=CaseStatus.IN_TREATMENT)
    factories.CaseFactory(opened_on=D(2025, 12, 31), status=CaseStatus.CONSULTATION)  # before the period
    _archive(factories.CaseFactory(opened_on=D(2026, 2, 15)), manager_user)
    _archive(factories.CaseFactory(opened_on=D(2026, 2, 16)).client, manager_user)

    by_status, per_month = reports.cases_report(Q1)

    rows = _rows(by_status)
    assert list(rows) == [s.label for s in CaseStatus]
    assert rows["Assessment"] == [2, 66.7]
    assert rows["In treatment"] == [1, 33.3]
    assert rows["Consultation"] == [0, 0.0]
    assert sum(r[0] for r in rows.values()) == 3
    assert per_month.rows == [[D(2026, 1, 1), 2], [D(2026, 2, 1), 0], [D(2026, 3, 1), 1]]


# --- 2. Issues ----------------------------------------------------------------------


def test_issues_by_kind_and_by_zone(manager_user):
    a, b = factories.CaseFactory(), factories.CaseFactory()
    issue = factories.IssueFactory
    issue(case=a, kind=IssueKind.TOO_DARK, zone=Zone.FRONTAL_HAIRLINE, severity=4, identified_on=D(2026, 1, 5))
    issue(case=a, kind=IssueKind.TOO_DARK, zone=Zone.CROWN, severity=2, identified_on=D(2026, 2, 1))
    issue(case=a, kind=IssueKind.FADED, zone=Zone.CROWN, severity=3, identified_on=D(2026, 3, 1))
    issue(case=b, kind=IssueKind.TOO_DARK, zone=Zone.FRONTAL_HAIRLINE, severity=3, identified_on=D(2026, 3, 10))
    issue(case=b, kind=IssueKind.FADED, zone=Zone.NAPE, severity=5, identified_on=D(2025, 12, 1))  # before
    _archive(issue(case=b, kind=IssueKind.OTHER, identified_on=D(2026, 2, 2)), manager_user)

    by_kind, by_zone = reports.issues_report(Q1)

    assert by_kind.rows[0] == ["Too dark or too dense", 3, 2, 3.0]
    assert by_kind.rows[1] == ["Faded", 1, 1, 3.0]
    assert len(by_kind.rows) == len(IssueKind)
    assert _rows(by_kind)["Other"] == [0, 0, None]
    assert by_zone.rows[:2] == [["Frontal hairline", 2, 2, 3.5], ["Crown (vertex)", 2, 1, 2.5]]
    assert _rows(by_zone)["Nape / donor area"] == [0, 0, None]


# --- 3. Origins ---------------------------------------------------------------------


def test_origins_top_ten_the_rest_and_not_recorded():
    day = D(2026, 2, 1)
    alpha = factories.StudioFactory(name="Alpha", city="Leeds")
    bravo = factories.StudioFactory(name="Bravo", city="")
    others = [factories.StudioFactory(name=f"S{n:02d}", city="") for n in range(3, 13)]
    ann = factories.ExternalArtistFactory(first_name="Ann", last_name="Original", studio=alpha)
    bob = factories.ExternalArtistFactory(first_name="Bob", last_name="Quick", studio=None)
    for _ in range(2):
        factories.CaseFactory(opened_on=day, original_studio=alpha, original_artist=ann)
    factories.CaseFactory(opened_on=day, original_studio=alpha, original_artist=bob)
    factories.CaseFactory(opened_on=day, original_studio=bravo)
    factories.CaseFactory(opened_on=day, original_studio=bravo)
    for studio in others:
        factories.CaseFactory(opened_on=day, original_studio=studio)
    factories.CaseFactory(opened_on=day)  # nothing recorded
    factories.CaseFactory(opened_on=D(2025, 1, 1), original_studio=others[-1])  # before the period

    by_studio, by_artist = reports.origins_report(Q1)

    labels = [row[0] for row in by_studio.rows]
    assert labels[:3] == ["Alpha (Leeds)", "Bravo", "S03"]
    assert labels[9] == "S10"
    assert by_studio.rows[0][1:] == [3, 18.8]  # 3 of 16
    assert by_studio.rows[10] == ["All other studios (2)", 2, 12.5]
    assert by_studio.rows[11] == ["Not recorded", 1, 6.2]
    assert sum(row[1] for row in by_studio.rows) == 16
    assert by_artist.rows == [
        ["Ann Original (Alpha)", 2, 12.5],
        ["Bob Quick", 1, 6.2],
        ["Not recorded", 13, 81.2],
    ]


# --- 4. Laser sessions against Kirby–Desai ------------------------------------------


def test_laser_sessions_against_the_kirby_desai_estimate(manager_user):
    technician, device = factories.TechnicianFactory(), factories.LaserDeviceFactory()

    def laser(case, day, **kwargs):
        return factories.LaserSessionFactory(
            case=case, technician=technician, device=device, scheduled_at=_at(day), **kwargs
        )

    k1 = factories.ClosedCaseFactory(closed_on=D(2026, 2, 1))
    factories.AcceptedPlanFactory(case=k1, status=PlanStatus.COMPLETED)  # 3+1+1+3+0+0 = 8
    for day in (D(2025, 11, 1), D(2025, 12, 15), D(2026, 1, 20)):
        laser(k1, day)
    laser(k1, D(2026, 1, 25), status=SessionStatus.SCHEDULED)
    _archive(laser(k1, D(2026, 1, 26)), manager_user)

    k2 = factories.ClosedCaseFactory(closed_on=D(2026, 3, 1))
    factories.ApprovedPlanFactory(case=k2, status=PlanStatus.SUPERSEDED, kd_ink_amount=1)  # 6, superseded
    factories.AcceptedPlanFactory(case=k2, version=2, status=PlanStatus.COMPLETED, kd_ink_amount=4)  # 9
    laser(k2, D(2025, 12, 1))
    laser(k2, D(2026, 1, 1))

    k3 = factories.ClosedCaseFactory(closed_on=D(2026, 4, 1))  # no plan, one session
    laser(k3, D(2026, 3, 1))
    factories.ClosedCaseFactory(closed_on=D(2026, 4, 2))  # no plan, no laser: not in the report
    early = factories.ClosedCaseFactory(closed_on=D(2025, 12, 15))  # closed before the period
    factories.ApprovedPlanFactory(case=early)
    open_case = factories.CaseFactory(status=CaseStatus.IN_TREATMENT)
    factories.ApprovedPlanFactory(case=open_case)

    (table,) = reports.laser_sessions_report(H1)

    assert table.rows == [
        [k1.reference, D(2026, 2, 1), 8, 3, -5],
        [k2.reference, D(2026, 3, 1), 9, 2, -7],
        [k3.reference, D(2026, 4, 1), None, 1, None],
    ]
    assert table.links[0] == f"/cases/{k1.public_id}/"
    assert "Across 2 closed cases with an estimate" in table.note
    assert "mean estimate 8.5, mean actual 2.5, mean difference (actual − estimate) -6.0 sessions" in table.note


def test_laser_estimate_comes_from_the_approved_plan_not_a_newer_draft():
    # Approved at 8, then revised: the approved version is superseded by a draft (estimate 11)
    # that no manager approved. The approved 8 is the estimate.
    revised = factories.ClosedCaseFactory(closed_on=D(2026, 2, 1))
    factories.ApprovedPlanFactory(case=revised, status=PlanStatus.SUPERSEDED)  # 8
    factories.TreatmentPlanFactory(case=revised, version=2, kd_ink_amount=4, kd_layering=2)  # 11, draft
    factories.LaserSessionFactory.create_batch(2, case=revised)
    # Approved at 9, then a newer draft (estimate 6): still 9.
    drafted = factories.ClosedCaseFactory(closed_on=D(2026, 3, 1))
    factories.AcceptedPlanFactory(case=drafted, status=PlanStatus.COMPLETED, kd_ink_amount=4)  # 9
    factories.TreatmentPlanFactory(case=drafted, version=2, kd_ink_amount=1)  # 6, draft
    factories.LaserSessionFactory.create_batch(3, case=drafted)
    # Only ever a draft, submitted but never approved: no estimate.
    unapproved = factories.ClosedCaseFactory(closed_on=D(2026, 4, 1))
    factories.TreatmentPlanFactory(case=unapproved, status=PlanStatus.PROPOSED, submitted_at=timezone.now())
    factories.LaserSessionFactory(case=unapproved)

    (table,) = reports.laser_sessions_report(H1)

    assert table.rows == [
        [revised.reference, D(2026, 2, 1), 8, 2, -6],
        [drafted.reference, D(2026, 3, 1), 9, 3, -6],
        [unapproved.reference, D(2026, 4, 1), None, 1, None],
    ]
    assert "Across 2 closed cases with an estimate" in table.note
    assert "mean estimate 8.5" in table.note


def test_laser_table_lists_only_the_latest_cases_and_says_so(monkeypatch):
    monkeypatch.setattr(reports, "LASER_ROWS_LIMIT", 3)
    cases = []
    for day in range(1, 6):
        case = factories.ClosedCaseFactory(closed_on=D(2026, 2, day))
        factories.ApprovedPlanFactory(case=case)  # 8
        factories.LaserSessionFactory.create_batch(day, case=case)
        cases.append(case)

    (table,) = reports.laser_sessions_report(H1)

    assert [row[0] for row in table.rows] == [c.reference for c in cases[2:]]  # the latest 3, oldest first
    assert len(table.links) == 3
    # The means still cover all five cases: actual 1..5, mean 3.
    assert "Across 5 closed cases with an estimate" in table.note
    assert "mean actual 3.0" in table.note
    assert "The table lists only the latest 3 closed cases" in table.note


def test_the_whole_laser_table_lists_every_case_with_the_same_means(monkeypatch):
    """The CSV's whole table is filtered and its means summed in Python, the page's cut
    table in the database: the same cases, differences and means either way."""
    monkeypatch.setattr(reports, "LASER_ROWS_LIMIT", 2)
    both = factories.ClosedCaseFactory(closed_on=D(2026, 2, 1))
    factories.ApprovedPlanFactory(case=both)  # 8
    factories.LaserSessionFactory.create_batch(3, case=both)
    no_sessions = factories.ClosedCaseFactory(closed_on=D(2026, 2, 2))
    factories.AcceptedPlanFactory(case=no_sessions, status=PlanStatus.COMPLETED, kd_ink_amount=4)  # 9
    factories.LaserSessionFactory(case=no_sessions, status=SessionStatus.CANCELLED)
    no_estimate = factories.ClosedCaseFactory(closed_on=D(2026, 2, 3))
    factories.LaserSessionFactory.create_batch(2, case=no_estimate)
    factories.ClosedCaseFactory(closed_on=D(2026, 2, 4))  # neither: not listed

    (page,) = reports.laser_sessions_report(H1)
    (whole,) = reports.laser_sessions_report(H1, whole=True)

    assert whole.rows == [
        [both.reference, D(2026, 2, 1), 8, 3, -5],
        [no_sessions.reference, D(2026, 2, 2), 9, 0, -9],
        [no_estimate.reference, D(2026, 2, 3), None, 2, None],
    ]
    assert page.rows == whole.rows[1:]
    means = (
        "Across 2 closed cases with an estimate: mean estimate 8.5, mean actual 1.5, "
        "mean difference (actual − estimate) -7.0 sessions."
    )
    assert page.note.startswith(means) and whole.note.startswith(means)
    assert "lists only the latest 2" in page.note and "lists only" not in whole.note
    # The chart draws every case with an estimate, as the means count them, not only
    # the rows the cut table lists.
    assert sorted(page.chart_points) == [(8, 3), (9, 0)]
    chart = charts.chart_for_table(page, H1)
    assert "estimate 8, actual 3: 1 case" in chart and "estimate 9, actual 0: 1 case" in chart


def test_laser_table_at_the_limit_is_not_cut(monkeypatch):
    monkeypatch.setattr(reports, "LASER_ROWS_LIMIT", 2)
    for day in (1, 2):
        factories.ApprovedPlanFactory(case=factories.ClosedCaseFactory(closed_on=D(2026, 2, day)))
    (table,) = reports.laser_sessions_report(H1)
    assert len(table.rows) == 2
    assert "lists only" not in table.note


def test_laser_sessions_report_without_estimates_says_so():
    (table,) = reports.laser_sessions_report(H1)
    assert table.rows == []
    assert table.note == "No closed case in the period has a Kirby–Desai estimate yet."


# --- 5. Adverse events --------------------------------------------------------------


def test_adverse_events_per_100_sessions_by_technician_device_and_skin_type():
    tina = factories.TechnicianFactory(first_name="Tina", last_name="Laser")
    tom = factories.TechnicianFactory(first_name="Tom", last_name="Beam")
    pico = factories.LaserDeviceFactory(name="Pico 1")
    qs = factories.LaserDeviceFactory(name="QS 2")
    light = factories.CaseFactory(client=factories.ClientFactory(fitzpatrick_type=Fitzpatrick.III))
    dark = factories.CaseFactory(client=factories.ClientFactory(fitzpatrick_type=Fitzpatrick.V))
    E = AdverseEventChoice

    def session(case, technician, device, events, day=FEB_1, **kwargs):
        s = factories.LaserSessionFactory(
            case=case, technician=technician, device=device, scheduled_at=_at(day), **kwargs
        )
        s.adverse_events.set(AdverseEventKind.objects.filter(code__in=events))

    session(light, tina, pico, [E.ERYTHEMA, E.BLISTERING])
    session(light, tina, pico, [])
    session(dark, tina, qs, [E.HYPERPIGMENTATION])
    session(dark, tom, None, [E.ERYTHEMA, E.OEDEMA, E.CRUSTING])
    session(dark, tom, qs, [E.SCARRING], status=SessionStatus.SCHEDULED)  # not done: not counted
    session(light, tom, pico, [E.SCARRING], day=D(2025, 12, 1))  # before the period

    by_technician, by_device, by_skin = reports.adverse_events_report(H1)

    # label: sessions, events, per 100, complications, per 100
    assert by_technician.rows == [
        ["Tom Beam", 1, 3, 300.0, 0, 0.0],
        ["Tina Laser", 3, 3, 100.0, 2, 66.7],
    ]
    assert by_device.rows == [
        ["Pico 1", 2, 2, 100.0, 1, 50.0],
        ["QS 2", 1, 1, 100.0, 1, 100.0],
        ["No device recorded", 1, 3, 300.0, 0, 0.0],
    ]
    skin = _rows(by_skin)
    assert list(skin) == [f"Type {t}" for t in ["I", "II", "III", "IV", "V", "VI"]]
    assert skin["Type III"] == [2, 2, 100.0, 1, 50.0]
    assert skin["Type V"] == [2, 4, 200.0, 1, 50.0]
    assert skin["Type I"] == [0, 0, None, 0, None]


def test_adverse_events_by_skin_type_count_the_type_each_session_was_treated_with():
    """A client assessed as type III, treated, then reassessed as type V: the earlier
    sessions stay under III (the type recorded with them), the later one under V."""
    client = factories.ClientFactory(fitzpatrick_type=Fitzpatrick.V)
    case = factories.CaseFactory(client=client)
    blistering = AdverseEventKind.objects.filter(code=AdverseEventChoice.BLISTERING)
    for day in (D(2026, 1, 10), D(2026, 2, 10)):
        factories.LaserSessionFactory(case=case, scheduled_at=_at(day), fitzpatrick_type=Fitzpatrick.III)
    factories.LaserSessionFactory(case=case, scheduled_at=_at(D(2026, 3, 10))).adverse_events.set(blistering)

    *_, by_skin = reports.adverse_events_report(H1)

    skin = _rows(by_skin)
    assert skin["Type III"] == [2, 0, 0.0, 0, 0.0]
    assert skin["Type V"] == [1, 1, 100.0, 1, 100.0]


# --- 6. Follow-up compliance --------------------------------------------------------


def test_follow_up_compliance(manager_user):
    case = factories.CaseFactory()

    def follow_up(due, status=FollowUpStatus.SCHEDULED, completed=None):
        return factories.FollowUpFactory(case=case, due_on=due, status=status, completed_on=completed)

    done = FollowUpStatus.COMPLETED
    follow_up(D(2026, 1, 10), done, D(2026, 1, 9))  # on time
    follow_up(D(2026, 1, 10), done, D(2026, 1, 10))  # on time, on the day
    follow_up(D(2026, 2, 10), done, D(2026, 2, 12))  # late
    follow_up(D(2026, 3, 1), FollowUpStatus.MISSED)
    follow_up(D(2026, 6, 1))  # overdue on 15 June
    follow_up(D(2026, 6, 20))  # not yet due
    follow_up(D(2026, 3, 3), FollowUpStatus.CANCELLED)
    follow_up(D(2025, 12, 20), done, D(2025, 12, 20))  # before the period
    _archive(follow_up(D(2026, 2, 2), FollowUpStatus.MISSED), manager_user)

    (table,) = reports.followups_report(H1, today=D(2026, 6, 15))

    assert table.rows == [
        ["Completed on time", 2, 40.0],
        ["Completed late", 1, 20.0],
        ["Missed", 1, 20.0],
        ["Overdue, not yet recorded", 1, 20.0],
        ["Not yet due", 1, None],
    ]
    assert table.note == "5 follow-ups due by today."


# --- 7. Satisfaction ----------------------------------------------------------------


def test_satisfaction_distribution_and_trend():
    factories.ClosedCaseFactory(closed_on=D(2026, 1, 10), satisfaction=5)
    factories.ClosedCaseFactory(closed_on=D(2026, 1, 20), satisfaction=3)
    factories.ClosedCaseFactory(closed_on=D(2026, 1, 25), satisfaction=None)
    factories.ClosedCaseFactory(closed_on=D(2026, 3, 2), satisfaction=4)
    factories.ClosedCaseFactory(closed_on=D(2026, 4, 5), satisfaction=1)  # after the period
    factories.CaseFactory(status=CaseStatus.FOLLOW_UP, satisfaction=2)  # not closed

    distribution, trend = reports.satisfaction_report(Q1)

    assert [row[1] for row in distribution.rows] == [0, 0, 1, 1, 1, 1]
    assert distribution.rows[2] == ["3 – neutral", 1, 33.3]
    assert distribution.rows[-1] == ["Not recorded", 1, None]
    assert distribution.note == "3 of 4 closed cases have a satisfaction score."
    assert trend.rows == [
        [D(2026, 1, 1), 3, 2, 4.0],
        [D(2026, 2, 1), 0, 0, None],
        [D(2026, 3, 1), 1, 1, 4.0],
    ]


# --- Tables -------------------------------------------------------------------------


def test_table_display_and_csv_rows():
    table = reports.Table(
        key="t",
        title="T",
        description="",
        columns=[reports.Column("Month", reports.MONTH), reports.Column("Mean", reports.FLOAT)],
        rows=[[D(2026, 1, 1), 4.25], [D(2026, 2, 1), None]],
        chart=None,
        links=["/x/"],
    )
    assert table.display_rows() == [
        [("Jan 2026", "/x/", False), ("4.2", None, True)],
        [("Feb 2026", None, False), ("—", None, True)],
    ]
    assert table.csv_rows() == [["Month", "Mean"], ["2026-01", 4.2], ["2026-02", ""]]
    assert table.body_html() == (
        '<tr><th scope="row"><a href="/x/">Jan 2026</a></th><td class="num">4.2</td></tr>\n'
        '<tr><th scope="row">Feb 2026</th><td class="num">—</td></tr>'
    )


def test_table_body_escapes_every_cell():
    table = reports.Table(
        key="t",
        title="T",
        description="",
        columns=[reports.Column("Studio"), reports.Column("Note")],
        rows=[["<img src=x onerror=alert(1)>", '"><script>x</script>']],
        links=['/a/"onmouseover="alert(1)'],
    )
    html = table.body_html()
    assert "<img" not in html and "<script" not in html and '"onmouseover' not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;script&gt;" in html


def test_adverse_events_period_ends_at_the_clinics_midnights():
    """The period is whole local days in the clinic's zone, filtered on index-friendly bounds."""
    tokyo = datetime.timezone(datetime.timedelta(hours=9))
    technician = factories.TechnicianFactory(first_name="Tina", last_name="Laser")
    moments = [
        datetime.datetime(2026, 1, 1, 0, 0, tzinfo=tokyo),  # first minute of the period: in
        datetime.datetime(2026, 6, 30, 23, 59, tzinfo=tokyo),  # last minute: in
        datetime.datetime(2026, 7, 1, 0, 0, tzinfo=tokyo),  # the day after: out
        datetime.datetime(2025, 12, 31, 23, 59, tzinfo=tokyo),  # the day before: out
    ]
    for moment in moments:
        factories.LaserSessionFactory(technician=technician, scheduled_at=moment)

    with timezone.override("Asia/Tokyo"):
        by_technician, _by_device, _by_skin = reports.adverse_events_report(H1)

    (row,) = by_technician.rows
    assert row[1] == 2
