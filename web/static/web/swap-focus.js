// After htmx swaps a part of the page in place of the form that was used, the focused button is
// gone and the keyboard would start again from the top of the page. Put focus on the new part
// instead: on its refusal when there is one (the rule to read), else on the part itself.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSettle", (event) => {
    const active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) return;
    const id = event.detail.target && event.detail.target.id;
    const part = id && document.getElementById(id);
    if (!part) return;
    const where = part.querySelector(".refusal") || part;
    if (!where.hasAttribute("tabindex")) where.setAttribute("tabindex", "-1");
    where.focus({ preventScroll: false });
  });
})();
