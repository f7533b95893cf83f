// Live updates for secure messaging. The pages work without this script, read by reloading.
//
// Events on the socket carry ids only, never text. In a conversation, a new message is fetched as HTML
// (the same markup the page renders, checked by the server) and added at the end when the reader is on
// the newest page; the reader's progress is then sent back, so the other side sees "Read". A read receipt
// from the other side updates "Sent" to "Read". In a team inbox, any change reloads the list of
// conversations in place. When the socket drops, the page reconnects and asks for everything after the
// last event it saw, so nothing sent meanwhile is missed.
(function () {
  "use strict";
  if (!window.WebSocket || !window.fetch) {
    return;
  }
  var STOP = { 4401: true, 4403: true, 4404: true, 4413: true, 4429: true, 1008: true };

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function say(announcer, text) {
    if (announcer && text) {
      announcer.textContent = "";
      window.setTimeout(function () {
        announcer.textContent = text;
      }, 50);
    }
  }

  // One socket, following several streams; reconnects with back-off and replays from the last id seen.
  // onEnded (optional) is told when the server closes the socket because access ended (4404).
  function follow(subscriptions, onEvent, onTrouble, onEnded) {
    var delay = 1000;
    function connect() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new WebSocket(scheme + window.location.host + "/ws/portal-social/");
      socket.addEventListener("open", function () {
        delay = 1000;
        subscriptions.forEach(function (sub) {
          socket.send(JSON.stringify({ type: "subscribe", stream: sub.stream, target: sub.target, after: sub.seen }));
        });
      });
      socket.addEventListener("message", function (message) {
        var data;
        try {
          data = JSON.parse(message.data);
        } catch (error) {
          return;
        }
        if (!data) {
          return;
        }
        var sub = subscriptions.filter(function (s) {
          return s.stream === data.stream && s.target === data.target;
        })[0];
        if (!sub) {
          return;
        }
        if (data.type === "subscribed") {
          if (data.reload) {
            onTrouble(sub);
            if (typeof data.last_id === "number") {
              sub.seen = Math.max(sub.seen, data.last_id);
            }
          }
        } else if (data.type === "error") {
          onTrouble(sub);
        } else {
          if (typeof data.id === "number") {
            if (data.id <= sub.seen) {
              return; // replayed after a reconnect, already handled
            }
            sub.seen = data.id;
          }
          onEvent(sub, data);
        }
      });
      socket.addEventListener("close", function (event) {
        if (STOP[event.code]) {
          if (event.code === 4404 && subscriptions.length) {
            (onEnded || onTrouble)(subscriptions[0]); // no longer this reader's to see: reloading shows what is left
          }
          return; // signed out or refused: reloading shows the reader why
        }
        window.setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      });
    }
    connect();
  }

  // A "Retract" button goes when its message can no longer be retracted (the server would refuse it).
  function expireRetracts(root) {
    root.querySelectorAll("form.ps-message__retract[data-ps-seconds-left]").forEach(function (form) {
      var left = parseInt(form.getAttribute("data-ps-seconds-left"), 10);
      form.removeAttribute("data-ps-seconds-left");
      if (!isNaN(left)) {
        window.setTimeout(function () {
          form.remove();
        }, Math.max(0, left) * 1000);
      }
    });
  }

  // A conversation --------------------------------------------------------------------------------
  var page = document.querySelector(".ps-conversation[data-ps-stream][data-ps-target]");
  if (page) {
    expireRetracts(page);
    var list = page.querySelector(".ps-message-list");
    var notice = page.querySelector(".ps-conversation__live");
    var ended = page.querySelector(".ps-conversation__ended");
    var announcer = page.querySelector(".ps-conversation__announce");
    var messagesUrl = page.getAttribute("data-ps-messages") || "";
    var readUrl = page.getAttribute("data-ps-read") || "";
    var lastPage = page.getAttribute("data-ps-last-page") === "true";
    var queue = Promise.resolve();
    var reading = null;

    var announce = function () {
      if (notice) {
        notice.hidden = false;
      }
    };

    var sendRead = function (seq) {
      var token = csrfToken();
      if (!readUrl || !token || document.hidden) {
        return;
      }
      var body = new URLSearchParams();
      body.set("seq", String(seq));
      body.set("csrfmiddlewaretoken", token);
      fetch(readUrl, {
        method: "POST",
        credentials: "same-origin",
        redirect: "manual",
        headers: { "X-Requested-With": "fetch", "X-CSRFToken": token },
        body: body,
      }).catch(function () {});
    };

    var fetchMessage = function (messageId) {
      return fetch(messagesUrl + encodeURIComponent(messageId) + "/", {
        credentials: "same-origin",
        headers: { Accept: "text/html", "X-Requested-With": "fetch" },
      }).then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.text();
      }).then(function (html) {
        var holder = document.createElement("ol");
        holder.innerHTML = html;
        var item = holder.firstElementChild;
        if (!item || item.id !== "message-" + messageId) {
          throw new Error("unexpected answer");
        }
        return item;
      });
    };

    var insert = function (messageId) {
      if (document.getElementById("message-" + messageId)) {
        return Promise.resolve();
      }
      if (!lastPage || !list) {
        announce();
        return Promise.resolve();
      }
      return fetchMessage(messageId)
        .then(function (item) {
          if (document.getElementById("message-" + messageId)) {
            return;
          }
          var empty = list.querySelector(".empty-state");
          if (empty) {
            empty.remove();
          }
          list.appendChild(item);
          expireRetracts(item);
          if (item.getAttribute("data-own-side") !== "true") {
            say(announcer, page.getAttribute("data-ps-new-message"));
            reading = parseInt(item.getAttribute("data-seq"), 10) || reading;
            sendRead(reading);
          }
        })
        .catch(announce);
    };

    var replace = function (messageId) {
      var current = document.getElementById("message-" + messageId);
      if (!current) {
        return Promise.resolve();
      }
      return fetchMessage(messageId)
        .then(function (item) {
          current.replaceWith(item);
          expireRetracts(item);
        })
        .catch(announce);
    };

    var receipt = function (seq) {
      page.querySelectorAll(".ps-message[data-own-side=true]").forEach(function (item) {
        var itemSeq = parseInt(item.getAttribute("data-seq"), 10) || 0;
        var mark = item.querySelector(".ps-message__receipt");
        if (mark && itemSeq <= seq) {
          mark.textContent = mark.getAttribute("data-read-label") || mark.textContent;
        }
      });
    };

    var viewerIsTeam = page.getAttribute("data-ps-side") === "care_team";
    var typingNote = page.querySelector(".ps-conversation__typing");
    var typingTimer = null;
    var typingUrl = page.getAttribute("data-ps-typing") || "";
    var lastTyping = 0;
    var box = page.querySelector(".ps-messaging__form textarea");
    if (box && typingUrl) {
      box.addEventListener("input", function () {
        var now = Date.now();
        var token = csrfToken();
        if (now - lastTyping < 5000 || !token) {
          return;
        }
        lastTyping = now;
        var body = new URLSearchParams();
        body.set("csrfmiddlewaretoken", token);
        fetch(typingUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-Requested-With": "fetch", "X-CSRFToken": token },
          body: body,
        }).catch(function () {});
      });
    }
    var sub = {
      stream: page.getAttribute("data-ps-stream"),
      target: page.getAttribute("data-ps-target"),
      seen: parseInt(page.getAttribute("data-ps-after"), 10) || 0,
    };
    follow(
      [sub],
      function (_sub, data) {
        if (data.kind === "message" && typeof data.message === "string") {
          queue = queue.then(function () {
            return insert(data.message);
          });
        } else if (data.kind === "retracted" && typeof data.message === "string") {
          queue = queue.then(function () {
            return replace(data.message);
          });
        } else if (data.kind === "typing") {
          if ((data.side === "care_team") !== viewerIsTeam && typingNote) {
            typingNote.textContent = page.getAttribute("data-ps-typing-text") || "";
            window.clearTimeout(typingTimer);
            typingTimer = window.setTimeout(function () {
              typingNote.textContent = "";
            }, 6000);
          }
        } else if (data.kind === "read" && typeof data.seq === "number") {
          // Only the other side's reading is news for this page's "Sent" marks.
          if ((data.side === "care_team") !== viewerIsTeam) {
            receipt(data.seq);
          }
        } else {
          announce();
        }
      },
      announce,
      function () {
        // The reader lost access (a caregiver link ended, the conversation made confidential): say so,
        // and take away the reply box, which the server would refuse.
        if (notice) {
          notice.hidden = true;
        }
        if (ended) {
          ended.hidden = false;
        }
        page.querySelectorAll(".ps-conversation__reply, .ps-conversation__tools").forEach(function (part) {
          part.hidden = true;
        });
      }
    );
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && reading) {
        sendRead(reading);
      }
    });
    return;
  }

  // A team inbox ----------------------------------------------------------------------------------
  var inbox = document.querySelector("[data-ps-inbox]");
  var streams = document.getElementById("ps-inbox-streams");
  if (inbox && streams) {
    var holder = inbox.querySelector(".ps-messaging__list");
    var inboxAnnouncer = inbox.querySelector(".ps-messaging__announce");
    var url = inbox.getAttribute("data-ps-inbox");
    var pending = null;
    var refresh = function () {
      if (pending) {
        return;
      }
      pending = window.setTimeout(function () {
        pending = null;
        fetch(url, { credentials: "same-origin", headers: { Accept: "text/html", "X-Requested-With": "fetch" } })
          .then(function (response) {
            if (!response.ok) {
              throw new Error("status " + response.status);
            }
            return response.text();
          })
          .then(function (html) {
            holder.innerHTML = html;
            say(inboxAnnouncer, inboxAnnouncer && inboxAnnouncer.getAttribute("data-ps-updated"));
          })
          .catch(function () {});
      }, 150);
    };
    var subs = [];
    try {
      JSON.parse(streams.textContent).forEach(function (s) {
        subs.push({ stream: s.stream, target: s.target, seen: parseInt(s.after, 10) || 0 });
      });
    } catch (error) {
      return;
    }
    follow(subs, refresh, refresh);
  }
})();
