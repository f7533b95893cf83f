// A thread tells its reader when replies were published after the page was read.
// Events carry ids only; the page shows a notice with a link to reload, it never rewrites itself.
(function () {
  "use strict";
  var root = document.querySelector("[data-ps-stream][data-ps-target]");
  if (!root || !window.WebSocket) {
    return;
  }
  var stream = root.getAttribute("data-ps-stream");
  var target = root.getAttribute("data-ps-target");
  // The stream's last event id when the page was read: only later events are news.
  var seen = parseInt(root.getAttribute("data-ps-after"), 10) || 0;
  var notice = root.querySelector(".ps-community__live");
  if (!stream || !target || !notice) {
    return;
  }
  function announce() {
    notice.hidden = false;
  }
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var socket = new WebSocket(scheme + window.location.host + "/ws/portal-social/");
  socket.addEventListener("open", function () {
    socket.send(JSON.stringify({ type: "subscribe", stream: stream, target: target, after: seen }));
  });
  socket.addEventListener("message", function (message) {
    var data;
    try {
      data = JSON.parse(message.data);
    } catch (error) {
      return;
    }
    if (!data || data.stream !== stream || data.target !== target) {
      return;
    }
    if (data.type === "subscribed") {
      // Missed events follow this reply; a gap too old to replay still means something changed.
      if (data.reload || (typeof data.last_id === "number" && data.last_id > seen)) {
        announce();
      }
    } else if (typeof data.id === "number" && data.id > seen) {
      announce();
    }
  });
})();
