"""The pages people use. Every route's URL name is in the access policy's PAGES."""

from django.urls import path

from web.views import auth, board, chairs, desk, me

app_name = "web"

urlpatterns = [
    path("", auth.SignInView.as_view(), name="sign-in"),
    path("sign-out/", auth.sign_out, name="sign-out"),
    path("home/", auth.home, name="home"),
    path("desk/", desk.desk, name="desk"),
    path("desk/today/", desk.desk_today, name="desk-today"),
    path("desk/patients/", desk.desk_patients, name="desk-patients"),
    path("desk/today/sick-call/", desk.desk_sick_call, name="desk-sick-call"),
    path("board/", board.board, name="board"),
    path("board/windows/<int:window_id>/", board.board_window, name="board-window"),
    path("board/appointments/<int:appointment_id>/", board.board_appointment, name="board-appointment"),
    path("board/appointments/<int:appointment_id>/move/", board.board_move, name="board-move"),
    path("board/appointments/<int:appointment_id>/cancel/", board.board_cancel, name="board-cancel"),
    path("chairs/", chairs.chairs, name="chairs"),
    path("chairs/sessions/<int:session_id>/check-in/", chairs.chair_check_in, name="chairs-check-in"),
    path("chairs/sessions/<int:session_id>/complete/", chairs.chair_complete, name="chairs-complete"),
    path("chairs/sessions/<int:session_id>/hold/", chairs.chair_hold, name="chairs-hold"),
    path("me/", me.me, name="me"),
    path("me/visits/<int:session_id>/ride-home/", me.me_ride_home, name="me-ride-home"),
    path("me/visits/<int:session_id>/change/", me.me_change, name="me-change"),
    path("me/preferences/", me.me_preferences, name="me-preferences"),
    path("me/calendar/", me.me_calendar, name="me-calendar"),
]
