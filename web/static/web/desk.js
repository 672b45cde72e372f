// The front desk's calendar: sessions by chair or by clinician, drawn by EventCalendar from the
// API's calendar (the one reader, the one policy), and every change made through the API's
// services: a booking from its preview, a move by dragging or by the form, a cancellation.
(function () {
  "use strict";
  const element = document.getElementById("calendar");
  if (!element || !window.EventCalendar) return;
  const data = element.dataset;
  const zone = data.zone;
  const chairs = JSON.parse(document.getElementById("chairs-data").textContent);
  const clinicians = JSON.parse(document.getElementById("clinicians-data").textContent);
  const state = { by: "chair", windows: false, ghosts: [], proposal: null, selected: null };

  // ---- The clinic's wall clock. EventCalendar draws floating times (no zone); the API speaks
  // instants. Each crossing goes through the clinic's zone, whatever the browser's own.
  const clock = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  // The zone's offset from UTC, asked of Intl once per quarter hour of time: every zone's offset
  // is a whole number of quarter hours and changes on a quarter hour, and asking is costly (a
  // week's draw would ask it thousands of times).
  const QUARTER_HOUR = 15 * 60 * 1000;
  const offsets = new Map();
  function offsetAt(ms) {
    const quarter = Math.floor(ms / QUARTER_HOUR);
    let offset = offsets.get(quarter);
    if (offset === undefined) {
      const at = quarter * QUARTER_HOUR;
      const p = Object.fromEntries(clock.formatToParts(new Date(at)).map((x) => [x.type, x.value]));
      offset = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - at;
      offsets.set(quarter, offset);
    }
    return offset;
  }
  // "YYYY-MM-DDTHH:MM:SS" on the clinic's clock, for an instant (a Date, an ISO string, or ms).
  function wall(instant) {
    const ms = new Date(instant).getTime();
    return new Date(ms + offsetAt(ms)).toISOString().slice(0, 19);
  }
  function fromWallFields(y, m, d, h, mi) {
    const ms = Date.UTC(y, m, d, h, mi);
    let guess = ms - offsetAt(ms);
    guess = ms - offsetAt(guess);
    return new Date(guess).toISOString();
  }
  // A Date whose local fields are the clinic's wall clock (what EventCalendar hands back).
  const instantOf = (local) =>
    fromWallFields(local.getFullYear(), local.getMonth(), local.getDate(), local.getHours(), local.getMinutes());
  // "YYYY-MM-DDTHH:MM" from a datetime-local input, on the clinic's clock.
  function instantOfInput(value) {
    const [date, time] = value.split("T");
    const [y, m, d] = date.split("-").map(Number);
    const [h, mi] = time.split(":").map(Number);
    return fromWallFields(y, m - 1, d, h, mi);
  }
  const timeText = (instant) => wall(instant).slice(11, 16);
  // Formatters are costly to make: one each, made once (hundreds of events use them per draw).
  const dayFormat = new Intl.DateTimeFormat("en-GB", { timeZone: zone, weekday: "short", day: "numeric", month: "short" });
  const dayText = (instant) => dayFormat.format(new Date(instant));

  // ---- Events from the API's calendar.
  const resourceOf = (event) => (state.by === "chair" ? event.chair : event.clinician);
  function sessionEvent(event) {
    const resource = resourceOf(event);
    const details = event.details || {};
    const scheduled = event.status === "scheduled";
    const ride = details.ride_home_confirmed ? "ride home ✓" : "no ride yet";
    const who = event.patient ? event.patient.name : event.title;
    // The patient confirmed by SMS (a reply C or YES).
    const confirmed = details.confirmed ? " · confirmed ✓" : "";
    return {
      id: `${event.type}-${event.id}`,
      resourceIds: resource ? [resource.id] : [],
      start: wall(event.start),
      end: wall(event.end),
      title: `${who} · ${event.status.replace("_", " ")} · ${ride}${confirmed}`,
      editable: scheduled,
      durationEditable: false,
      classNames: [
        "session",
        `status-${event.status}`,
        details.ride_home_confirmed ? "ride-ok" : "ride-missing",
        details.confirmed ? "confirmed" : "unconfirmed",
      ],
      extendedProps: { kind: "session", api: event },
    };
  }
  function windowEvent(event) {
    const session = event.details || {};
    const resource = resourceOf(event);
    return {
      id: `${event.type}-${event.id}`,
      // In its session's chair (or clinician) column when the event names it, else across all.
      resourceIds: resource ? [resource.id] : everyResource(),
      start: wall(event.start), end: wall(event.end),
      title: `${event.title}${event.patient ? " · " + event.patient.name : ""} · ${event.status}`,
      editable: false, display: "auto",
      classNames: ["window", `status-${event.status}`],
      extendedProps: { kind: event.type, api: event, session: session.session_id },
    };
  }
  const everyResource = () => (state.by === "chair" ? chairs : clinicians).map((r) => r.id);
  function closureEvent(event) {
    return {
      id: `closure-${event.id}`, resourceIds: everyResource(), start: wall(event.start), end: wall(event.end),
      display: "background", classNames: ["closure"], title: event.title, extendedProps: { kind: "closure" },
    };
  }

  async function loadEvents(info) {
    const start = instantOf(info.start);
    const end = instantOf(info.end);
    const types = ["session", "maintenance_session", "closure"];
    if (state.windows) types.push("integration_window", "integration_appointment");
    const query = new URLSearchParams({ start, end, type: types.join(",") });
    const answer = await KC.api("GET", `${data.calendarUrl}?${query}`);
    if (!answer.ok) {
      KC.say(KC.errorText(answer.data), "error");
      return [];
    }
    const events = answer.data.events.map((event) => {
      if (event.type === "closure") return closureEvent(event);
      if (event.type === "session" || event.type === "maintenance_session") return sessionEvent(event);
      return windowEvent(event);
    });
    if (state.by === "clinician") events.push(...(await timeOff(start, end)));
    return events.concat(state.ghosts);
  }

  // Staff time off, shaded in the clinicians' columns.
  async function timeOff(start, end) {
    const query = new URLSearchParams({ start, end, page_size: "500" });
    const answer = await KC.api("GET", `${data.timeOffUrl}?${query}`);
    if (!answer.ok) return [];
    const rows = answer.data.results || answer.data;
    return rows.map((row) => ({
      id: `time-off-${row.id}`, resourceIds: [row.staff], start: wall(row.starts_at), end: wall(row.ends_at),
      display: "background", classNames: ["time-off"], extendedProps: { kind: "time_off" },
    }));
  }

  const calendar = EventCalendar.create(element, {
    view: data.view === "week" ? "resourceTimeGridWeek" : "resourceTimeGridDay",
    date: data.date,
    headerToolbar: { start: "prev,next today", center: "title", end: "resourceTimeGridDay,resourceTimeGridWeek" },
    buttonText: { resourceTimeGridDay: "Day", resourceTimeGridWeek: "Week", today: "Today" },
    resources: chairs,
    eventSources: [{ events: loadEvents }],
    slotMinTime: "07:00:00", slotMaxTime: "20:00:00", scrollTime: "08:00:00",
    allDaySlot: false, nowIndicator: true, editable: false, eventDurationEditable: false,
    datesAboveResources: true, firstDay: 1,
    hiddenDays: data.closedDays ? data.closedDays.split(",").map(Number) : [],
    selectable: true,
    eventDrop: onDrop,
    eventClick: (info) => select(info.event),
    dateClick: startBookingAt,
    eventDidMount: (info) => {
      // Every event is a control: reachable by keyboard and named for screen readers.
      const kind = info.event.extendedProps.kind;
      if (kind === "closure" || kind === "time_off") return;
      info.el.setAttribute("tabindex", "0");
      info.el.setAttribute("role", "button");
      const where = (info.event.extendedProps.api || {})[state.by] || {};
      const when = instantOf(info.event.start);
      info.el.setAttribute("aria-label", `${info.event.title}, ${dayText(when)} ${timeText(when)}${where.name ? ", " + where.name : ""}`);
      info.el.dataset.eventId = info.event.id;
      info.el.addEventListener("keydown", (key) => {
        if (key.key === "Enter" || key.key === " ") {
          key.preventDefault();
          select(info.event);
        }
      });
    },
  });
  window.KC.calendar = calendar;

  // EventCalendar marks its grid as a table whose rows hold toolbars and event buttons, which
  // assistive technology cannot read as a table. The calendar is read instead as a region of
  // labelled controls (each event's label says who, what, when and where), and its arrow buttons
  // get names; redone whenever the calendar draws new parts.
  const TABLE_ROLES = "[role=table],[role=row],[role=rowgroup],[role=cell],[role=columnheader],[role=rowheader]";
  const TABLE_ATTRIBUTES = ["aria-colindex", "aria-rowindex", "aria-colspan", "aria-rowspan"];
  // Changes only what differs, so that its own changes give the observer nothing to report.
  function readable() {
    if (element.getAttribute("role") !== "region") element.setAttribute("role", "region");
    element.querySelectorAll(TABLE_ROLES).forEach((node) => node.setAttribute("role", "none"));
    for (const name of TABLE_ATTRIBUTES) element.querySelectorAll(`[${name}]`).forEach((node) => node.removeAttribute(name));
    for (const [selector, name] of [[".ec-prev", "Previous"], [".ec-next", "Next"]]) {
      const button = element.querySelector(selector);
      if (button && button.getAttribute("aria-label") !== name) button.setAttribute("aria-label", name);
    }
  }
  readable();
  // Once per frame at most, however many parts the calendar draws in it.
  let pending = false;
  const soon = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      readable();
    });
  };
  new MutationObserver(soon).observe(element, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["role", ...TABLE_ATTRIBUTES],
  });

  // ---- Moving a session: by dragging it, or with the form. Refused: the event goes back and
  // the rule is shown. Done: the calendar reads again (the window and appointments moved too).
  async function onDrop(info) {
    const api = info.event.extendedProps.api;
    const body = { starts_at: instantOf(info.event.start) };
    if (info.newResource) body[state.by === "chair" ? "chair" : "clinician"] = Number(info.newResource.id);
    const done = await move(api.id, body);
    if (!done) info.revert();
  }

  async function move(sessionId, body) {
    const answer = await KC.api("POST", `${data.sessionsUrl}${sessionId}/reschedule/`, body);
    if (!answer.ok) {
      KC.say(`Not moved: ${KC.errorText(answer.data)}`, "error");
      return false;
    }
    const result = answer.data;
    const lines = [`Moved to ${dayText(result.session.starts_at)} ${timeText(result.session.starts_at)}; its follow-up window moved with it.`];
    if (result.moved_appointments.length) lines.push(`${result.moved_appointments.length} follow-up appointment(s) moved with it.`);
    if (result.cancelled_appointments.length) lines.push(`${result.cancelled_appointments.length} follow-up appointment(s) cancelled: the therapist or the patient was not free at the new time.`);
    KC.say(lines.join(" "), "success");
    calendar.refetchEvents();
    return true;
  }

  // ---- The selected session and what can be done with it.
  const panel = document.getElementById("selected");
  function select(event) {
    if (event.extendedProps.kind !== "session") return;
    const api = event.extendedProps.api;
    state.selected = api;
    panel.hidden = false;
    document.getElementById("selected-summary").textContent =
      `${api.patient ? api.patient.name : api.title}, ${dayText(api.start)} ${timeText(api.start)}–${timeText(api.end)}, ` +
      `${api.chair ? api.chair.name : ""}, ${api.status.replace("_", " ")}`;
    document.getElementById("move-start").value = wall(api.start).slice(0, 16);
    if (api.chair) document.getElementById("move-chair").value = String(api.chair.id);
    panel.querySelectorAll("#move-form button, [data-action], #cancel-form button").forEach(
      (button) => (button.disabled = api.status !== "scheduled"),
    );
    // A held or no-show session is not moved: it is made up by a new session.
    const missed = api.status === "held" || api.status === "no_show";
    document.getElementById("make-up-form").hidden = !missed;
    if (missed) document.getElementById("make-up-start").value = wall(api.start).slice(0, 16);
    // A maintenance series starts after the course's sessions: offered from three weeks on.
    const later = new Date(Date.parse(api.start) + 21 * 24 * 3600 * 1000);
    document.getElementById("maintenance-start").value = wall(later).slice(0, 16);
    if (api.chair) document.getElementById("maintenance-chair").value = String(api.chair.id);
    if (api.clinician) document.getElementById("maintenance-clinician").value = String(api.clinician.id);
    document.getElementById("selected-title").focus();
  }
  document.getElementById("selected-title").setAttribute("tabindex", "-1");

  document.getElementById("move-form").addEventListener("submit", async (submit) => {
    submit.preventDefault();
    if (!state.selected) return;
    const body = {
      starts_at: instantOfInput(document.getElementById("move-start").value),
      chair: Number(document.getElementById("move-chair").value),
    };
    if (await move(state.selected.id, body)) panel.hidden = true;
  });

  document.getElementById("make-up-form").addEventListener("submit", async (submit) => {
    submit.preventDefault();
    if (!state.selected) return;
    const body = { starts_at: instantOfInput(document.getElementById("make-up-start").value) };
    const answer = await KC.api("POST", `${data.sessionsUrl}${state.selected.id}/make-up/`, body);
    if (!answer.ok) {
      KC.say(`Not booked: ${KC.errorText(answer.data)}`, "error");
      return;
    }
    KC.say(`Make-up session booked for ${dayText(answer.data.starts_at)} ${timeText(answer.data.starts_at)}.`, "success");
    panel.hidden = true;
    calendar.refetchEvents();
  });

  const actions = {
    "check-in": (id) => ["check-in/", { ride_home_confirmed: true }, "Checked in."],
    "ride-home": (id) => ["ride-home/", { confirmed: true }, "Ride home confirmed."],
    "no-show": (id) => ["no-show/", {}, "Recorded as a no-show."],
  };
  panel.querySelectorAll("[data-action]").forEach((button) =>
    button.addEventListener("click", async () => {
      if (!state.selected) return;
      const [path, body, said] = actions[button.dataset.action](state.selected.id);
      const answer = await KC.api("POST", `${data.sessionsUrl}${state.selected.id}/${path}`, body);
      KC.say(answer.ok ? said : KC.errorText(answer.data), answer.ok ? "success" : "error");
      if (answer.ok) {
        panel.hidden = true;
        calendar.refetchEvents();
      }
    }),
  );

  document.getElementById("maintenance-form").addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const courseId = (state.selected.details || {}).course_id;
    const body = {
      first_starts_at: instantOfInput(document.getElementById("maintenance-start").value),
      interval_days: Number(document.getElementById("maintenance-every").value),
      count: Number(document.getElementById("maintenance-count").value),
      chair: Number(document.getElementById("maintenance-chair").value),
      clinician: Number(document.getElementById("maintenance-clinician").value),
    };
    const answer = await KC.api("POST", `${data.coursesUrl}${courseId}/maintenance/`, body);
    if (!answer.ok) {
      KC.say(`Not booked: ${KC.errorText(answer.data)}`, "error");
      return;
    }
    const first = answer.data.sessions[0];
    KC.say(`Maintenance booked: ${answer.data.sessions.length} sessions from ${dayText(first.starts_at)} ${timeText(first.starts_at)}.`, "success");
    panel.hidden = true;
    calendar.refetchEvents();
  });

  document.getElementById("cancel-form").addEventListener("submit", async (submit) => {
    submit.preventDefault();
    await cancel(`${data.sessionsUrl}${state.selected.id}/cancel/`, "Session cancelled.");
  });
  document.getElementById("cancel-course").addEventListener("click", async () => {
    const reason = document.getElementById("cancel-reason");
    if (!reason.reportValidity()) return;
    const details = state.selected.details || {};
    await cancel(`${data.coursesUrl}${details.course_id}/cancel/`, "Course cancelled, with its sessions still to come.");
  });
  async function cancel(url, said) {
    const reason = document.getElementById("cancel-reason").value;
    const answer = await KC.api("POST", url, { reason });
    // A course left below its protocol's minimum of induction sessions is said with the cancellation.
    const warning = answer.ok && answer.data.course_warning ? ` ${answer.data.course_warning.message}` : "";
    KC.say(answer.ok ? said + warning : KC.errorText(answer.data), answer.ok ? "success" : "error");
    if (answer.ok) {
      panel.hidden = true;
      calendar.refetchEvents();
    }
  }

  // ---- What the calendar shows.
  document.querySelectorAll('input[name="by"]').forEach((radio) =>
    radio.addEventListener("change", () => {
      state.by = radio.value;
      element.setAttribute("aria-label", state.by === "chair" ? "Sessions by chair" : "Sessions by clinician");
      calendar.setOption("resources", state.by === "chair" ? chairs : clinicians);
      calendar.refetchEvents();
    }),
  );
  document.getElementById("show-windows").addEventListener("change", (change) => {
    state.windows = change.target.checked;
    calendar.refetchEvents();
  });

  // ---- Booking a course: the planner's proposal as ghost events, then confirm.
  const form = document.getElementById("book-form");
  const proposalBox = document.getElementById("proposal");
  const confirmButton = document.getElementById("confirm");
  const discardButton = document.getElementById("discard");

  function startBookingAt(info) {
    document.getElementById("first-date").value = wall(instantOf(info.date)).slice(0, 10);
    document.getElementById("patient-search").focus();
  }

  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    await preview();
  });

  async function preview() {
    const body = {
      patient: Number(form.patient.value),
      protocol: Number(form.protocol.value),
      first_date: form.first_date.value,
    };
    const answer = await KC.api("POST", data.proposeUrl, body);
    if (!answer.ok) {
      showProposalError(KC.errorText(answer.data));
      return;
    }
    const proposal = answer.data;
    if (!proposal.feasible) {
      const why = proposal.problems.map((p) => p.message).join(" ");
      showProposalError(`No course fits from ${proposal.first_date}: ${why}`, proposal.next_feasible_first_date);
      return;
    }
    state.proposal = { body, proposal };
    state.ghosts = proposal.sessions.map((row) => ({
      id: `ghost-${row.sequence}`,
      resourceIds: [state.by === "chair" ? row.chair : row.clinician],
      start: wall(row.starts_at), end: wall(row.ends_at),
      title: `Proposed session ${row.sequence}`, editable: false,
      classNames: ["ghost"], extendedProps: { kind: "ghost" },
    }));
    const chairName = (id) => (chairs.find((c) => c.id === id) || {}).title || id;
    const clinicianName = (id) => (clinicians.find((c) => c.id === id) || {}).title || id;
    proposalBox.replaceChildren();
    const list = document.createElement("ol");
    list.className = "proposal";
    for (const row of proposal.sessions) {
      const item = document.createElement("li");
      item.textContent = `${dayText(row.starts_at)} ${timeText(row.starts_at)}, ${chairName(row.chair)}, ${clinicianName(row.clinician)}`;
      list.append(item);
    }
    proposalBox.append(list);
    confirmButton.hidden = false;
    discardButton.hidden = false;
    // The week of the first session, with every proposed session of that week in view.
    calendar.setOption("view", "resourceTimeGridWeek");
    calendar.setOption("date", proposal.first_date);
    calendar.refetchEvents();
    KC.say(`Proposed: ${proposal.sessions.length} sessions from ${proposal.first_date}. Confirm to book them.`, "info");
  }

  function showProposalError(text, nextDate) {
    clearProposal();
    const line = document.createElement("p");
    line.className = "error";
    line.setAttribute("role", "alert");
    line.textContent = text;
    proposalBox.append(line);
    if (nextDate) {
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "primary";
      retry.textContent = `Try ${nextDate}`;
      retry.addEventListener("click", () => {
        form.first_date.value = nextDate;
        preview();
      });
      proposalBox.append(retry);
    }
  }

  function clearProposal() {
    state.proposal = null;
    state.ghosts = [];
    proposalBox.replaceChildren();
    confirmButton.hidden = true;
    discardButton.hidden = true;
    calendar.refetchEvents();
  }
  discardButton.addEventListener("click", clearProposal);

  confirmButton.addEventListener("click", async () => {
    if (!state.proposal) return;
    const { body, proposal } = state.proposal;
    const sessions = proposal.sessions.map((row) => ({ starts_at: row.starts_at, chair: row.chair, clinician: row.clinician }));
    const answer = await KC.api("POST", data.coursesUrl, { patient: body.patient, protocol: body.protocol, sessions });
    if (!answer.ok) {
      const next = answer.data && answer.data.details ? answer.data.details.next_feasible_first_date : null;
      showProposalError(`Not booked: ${KC.errorText(answer.data)}`, next);
      return;
    }
    clearProposal();
    KC.say(`Booked: ${sessions.length} sessions from ${dayText(sessions[0].starts_at)}.`, "success");
  });
})();
