// What every page shares: the CSRF token on every htmx request and on the calendar's fetches,
// and one place that says what happened (the page's live status region).
(function () {
  "use strict";
  const token = () => document.querySelector('meta[name="csrf-token"]').content;

  document.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers["X-CSRFToken"] = token();
  });

  // An htmx request refused by the server (409 for a broken rule, 400 for bad input) still
  // swaps its answer in: the answer is the rule in words, for the person to read.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const status = event.detail.xhr.status;
    if (status === 400 || status === 404 || status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  window.KC = {
    // JSON to and from the API, signed in by the page's own session.
    async api(method, url, body) {
      const response = await fetch(url, {
        method,
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token() },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const data = response.status === 204 ? null : await response.json().catch(() => null);
      return { ok: response.ok, status: response.status, data };
    },
    // Say something in the page's status region (read out by screen readers).
    say(text, kind) {
      const region = document.getElementById("notice");
      region.replaceChildren();
      const line = document.createElement("p");
      line.className = kind || "info";
      line.textContent = text;
      region.append(line);
    },
    // The words of an API error answer: its message, and the rule it names.
    errorText(data) {
      if (!data || !data.message) return "The change was refused.";
      return data.message;
    },
  };
})();
