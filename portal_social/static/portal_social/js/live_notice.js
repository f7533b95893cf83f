// A staff list tells its reader when a colleague changed it: a claim, a decision, a new item.
// Used by the moderation queue and the patient-experience workspace. The root element names its streams
// in data-ps-streams ("name:last id seen when the page was read", space-separated); only later events
// count. Events carry ids only. The page shows its [data-ps-live-notice] with a link to reload: it never
// rewrites itself under the reader's keyboard focus.
(function () {
  "use strict";
  var root = document.querySelector("[data-ps-streams]");
  if (!root || !window.WebSocket) {
    return;
  }
  var seen = {};
  var streams = (root.getAttribute("data-ps-streams") || "").split(" ").filter(Boolean).map(function (entry) {
    var cut = entry.lastIndexOf(":");
    var name = entry.slice(0, cut);
    seen[name] = parseInt(entry.slice(cut + 1), 10) || 0;
    return name;
  });
  var notice = root.querySelector("[data-ps-live-notice]");
  if (!streams.length || !notice) {
    return;
  }
  var delay = 1000;
  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/portal-social/");
    socket.addEventListener("open", function () {
      delay = 1000;
      streams.forEach(function (name) {
        socket.send(JSON.stringify({ type: "subscribe", stream: name, target: "", after: seen[name] }));
      });
    });
    socket.addEventListener("message", function (message) {
      var data;
      try {
        data = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (data && typeof data.id === "number" && streams.indexOf(data.stream) !== -1 && data.id > seen[data.stream]) {
        seen[data.stream] = data.id;
        notice.hidden = false;
      }
    });
    socket.addEventListener("close", function (event) {
      if (event.code >= 4400 || event.code === 1008) {
        return; // signed out or refused: reloading shows the reader why
      }
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }
  connect();
})();
