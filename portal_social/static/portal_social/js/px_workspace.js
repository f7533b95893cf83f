// Keyboard triage in the patient-experience workspace. The page works without this script.
// j / k: next / previous case; x: tick or untick the case for bulk assignment; Enter opens it (a link).
// Keys typed into a form field are left alone.
(function () {
  "use strict";
  var table = document.querySelector("[data-ps-triage]");
  if (!table) {
    return;
  }
  var links = Array.prototype.slice.call(table.querySelectorAll("tbody a[data-ps-case]"));
  if (!links.length) {
    return;
  }
  function current() {
    return links.indexOf(document.activeElement);
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    if (target && (target.isContentEditable || /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(target.tagName))) {
      if (!(target.tagName === "INPUT" && target.type === "checkbox")) {
        return;
      }
    }
    var at = current();
    if (event.key === "j" || event.key === "k") {
      var next = event.key === "j" ? Math.min(links.length - 1, at + 1) : Math.max(0, at - 1);
      links[at === -1 ? 0 : next].focus();
      event.preventDefault();
    } else if (event.key === "x" && at !== -1) {
      var box = links[at].closest("tr").querySelector("input[type=checkbox][name=case]");
      if (box) {
        box.checked = !box.checked;
        event.preventDefault();
      }
    }
  });
})();
