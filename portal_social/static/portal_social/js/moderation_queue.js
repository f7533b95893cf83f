// The moderation queue tells a moderator when a colleague changed it: a claim, a decision, a new item.
// Events carry ids only; the page shows a notice with a link to reload, it never rewrites itself.
(function () {
  "use strict";
  var root = document.querySelector("[data-ps-streams]");
  if (!root || !window.WebSocket) {
    return;
  }
  // "name:last id seen when the page was read" for each stream: only later events count as changes.
  var seen = {};
  var streams = (root.getAttribute("data-ps-streams") || "").split(" ").filter(Boolean).map(function (entry) {
    var cut = entry.lastIndexOf(":");
    var name = entry.slice(0, cut);
    seen[name] = parseInt(entry.slice(cut + 1), 10) || 0;
    return name;
  });
  var notice = root.querySelector(".ps-moderation__live");
  if (!streams.length || !notice) {
    return;
  }
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var socket = new WebSocket(scheme + window.location.host + "/ws/portal-social/");
  socket.addEventListener("open", function () {
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
      notice.hidden = false;
    }
  });
})();
