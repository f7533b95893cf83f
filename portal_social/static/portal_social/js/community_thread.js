// New replies appear in the open thread as they are published.
//
// Events on the socket carry ids only, never text: for a new post the page asks the server for that
// post as HTML (the same markup the page itself renders, for this reader, checked by the server), and
// adds it at the end of the list when the reader is on the thread's last page. A post taken down
// leaves the list. Whenever a post cannot be shown in place (an earlier page, a failed request, more
// missed than the server keeps), the page says that new replies were posted, with a link to reload.
// When the socket drops, the page reconnects and asks for everything after the last event it saw.
// Without this script the page works the same, read by reloading.
(function () {
  "use strict";
  var root = document.querySelector("[data-ps-stream][data-ps-target]");
  if (!root || !window.WebSocket || !window.fetch) {
    return;
  }
  var stream = root.getAttribute("data-ps-stream");
  var target = root.getAttribute("data-ps-target");
  var postsUrl = root.getAttribute("data-ps-posts") || "";
  var lastPage = root.getAttribute("data-ps-last-page") === "true";
  // The stream's last event id when the page was read: only later events are news.
  var seen = parseInt(root.getAttribute("data-ps-after"), 10) || 0;
  var notice = root.querySelector(".ps-community__live");
  var list = root.querySelector(".ps-post-list");
  var announcer = root.querySelector(".ps-community__announce");
  if (!stream || !target || !notice || !list) {
    return;
  }
  var STOP = { 4401: true, 4403: true, 4404: true, 4413: true, 4429: true, 1008: true };
  var delay = 1000;
  // Posts are inserted in the order their events arrive, one request at a time.
  var queue = Promise.resolve();

  function announce() {
    notice.hidden = false;
  }

  function say(text) {
    if (announcer && text) {
      announcer.textContent = "";
      window.setTimeout(function () {
        announcer.textContent = text;
      }, 50);
    }
  }

  function insert(postId) {
    if (document.getElementById("post-" + postId)) {
      return Promise.resolve(); // already on the page (the reader's own reply, or a replayed event)
    }
    if (!lastPage || !postsUrl) {
      announce();
      return Promise.resolve();
    }
    return fetch(postsUrl + encodeURIComponent(postId) + "/", {
      credentials: "same-origin",
      headers: { Accept: "text/html", "X-Requested-With": "fetch" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        if (document.getElementById("post-" + postId)) {
          return;
        }
        var holder = document.createElement("ol");
        holder.innerHTML = html;
        var item = holder.firstElementChild;
        if (!item || !item.querySelector("#post-" + postId)) {
          throw new Error("unexpected answer");
        }
        var empty = list.querySelector(".empty-state");
        if (empty) {
          empty.remove();
        }
        list.appendChild(item);
        say(root.getAttribute("data-ps-new-reply"));
      })
      .catch(function () {
        announce();
      });
  }

  function remove(postId) {
    var article = document.getElementById("post-" + postId);
    if (article && article.parentNode && article.parentNode.tagName === "LI") {
      article.parentNode.remove();
    }
  }

  function handle(data) {
    if (typeof data.id === "number") {
      if (data.id <= seen) {
        return;
      }
      seen = data.id;
    }
    if (data.kind === "post" && typeof data.post === "string") {
      queue = queue.then(function () {
        return insert(data.post);
      });
    } else if (data.kind === "hidden" && typeof data.post === "string") {
      remove(data.post);
    } else {
      announce();
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/portal-social/");
    socket.addEventListener("open", function () {
      delay = 1000;
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
        // Missed events follow this answer; a gap too old to replay still means something changed.
        if (data.reload) {
          announce();
          if (typeof data.last_id === "number") {
            seen = Math.max(seen, data.last_id);
          }
        }
      } else if (data.type === "error") {
        announce();
      } else {
        handle(data);
      }
    });
    socket.addEventListener("close", function (event) {
      if (STOP[event.code]) {
        return; // signed out, or refused: reloading shows the reader why
      }
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }

  connect();
})();
