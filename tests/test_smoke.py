import datetime as dt

from courses.models import Course
from sessions.models import IntegrationWindow, TreatmentSession
from sessions.scheduling import Preferences
from sessions.services.booking import course_plan_and_book


def test_fixture_clinic_books_a_three_a_week_course(clinic, patient, monday, now):
    course = course_plan_and_book(
        patient=patient, protocol=clinic.protocol, first_date=monday, preferences=Preferences(), now=now
    )
    sessions = list(course.sessions.order_by("starts_at"))
    assert course.status == Course.Status.PLANNED
    assert [s.local_date.weekday() for s in sessions] == [0, 2, 4, 0, 2, 4]
    assert IntegrationWindow.objects.filter(session__course=course).count() == 6
    assert all(s.status == TreatmentSession.Status.SCHEDULED for s in sessions)
    assert sessions[-1].local_date - sessions[0].local_date == dt.timedelta(days=11)
