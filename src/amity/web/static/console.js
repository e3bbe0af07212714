// Amity console: live updates over server-sent events (GET /api/v1/stream, the session cookie signs it).
// - Inbox: a conversation event fetches that conversation's row, rendered by the server for the view
//   shown (/inbox/rows/{id}?<view query>), and puts it in due order; 204 means it left the view.
// - Conversation page: a change to the open conversation offers a reload (typed text is never lost).
// - Any page: call.ringing pops the caller and their open conversation (the screen pop).
// Everything is inserted as server-escaped HTML or as textContent; pages work without this script.
"use strict";
(function () {
  if (!window.EventSource) {
    return;
  }
  var inbox = document.querySelector("[data-inbox]");
  var rows = document.getElementById("inbox-rows");
  var state = document.getElementById("live-state");
  var openConversation = document.querySelector("[data-conversation]");
  var countsTimer = null;

  function say(text) {
    if (state) {
      state.textContent = text;
    }
  }

  function fromHtml(html) {
    var t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  }

  function dueOf(row) {
    // Rows with nothing due sort last, as on the server.
    var due = row.getAttribute("data-due");
    return due ? Date.parse(due) : Infinity;
  }

  function sortsBefore(due, id, otherDue, otherId) {
    return due < otherDue || (due === otherDue && id < otherId);
  }

  // Paged views: this page holds the rows from its first one (data-from-*, set on pages after the
  // first) up to page-size rows; a row that sorts outside that window belongs to another page.
  function outsidePage(due, id) {
    if (inbox.hasAttribute("data-from-id")) {
      var fromDue = inbox.getAttribute("data-from-due");
      if (sortsBefore(due, id, fromDue ? Date.parse(fromDue) : Infinity, inbox.getAttribute("data-from-id"))) {
        return true;
      }
    }
    if (inbox.hasAttribute("data-more")) {
      var shown = rows.querySelectorAll("tr[data-row]");
      var last = shown[shown.length - 1];
      if (last && !sortsBefore(due, id, dueOf(last), last.getAttribute("data-id"))) {
        return true; // after the last row of a full page: it is on a later page
      }
    }
    return false;
  }

  function place(row) {
    var id = row.getAttribute("data-id");
    var old = rows.querySelector('tr[data-id="' + CSS.escape(id) + '"]');
    var due = dueOf(row);
    if (old) {
      old.remove();
    }
    if (outsidePage(due, id)) {
      return;
    }
    var before = null;
    rows.querySelectorAll("tr[data-row]").forEach(function (r) {
      if (!before && sortsBefore(due, id, dueOf(r), r.getAttribute("data-id"))) {
        before = r;
      }
    });
    rows.insertBefore(row, before);
    row.classList.add("row-fresh");
    document.getElementById("inbox-empty").hidden = true;
    var size = parseInt(inbox.getAttribute("data-page-size") || "0", 10);
    var all = rows.querySelectorAll("tr[data-row]");
    if (size && all.length > size) {
      all[all.length - 1].remove(); // the page stays one page long: the last row moves to the next
      inbox.setAttribute("data-more", "");
    }
  }

  function refreshRow(id) {
    var query = inbox.getAttribute("data-query");
    fetch("/inbox/rows/" + encodeURIComponent(id) + "?" + query, { credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 204) {
          var gone = rows.querySelector('tr[data-id="' + CSS.escape(id) + '"]');
          if (gone) {
            gone.remove();
          }
          return null;
        }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html) {
          place(fromHtml(html));
        }
      });
    clearTimeout(countsTimer);
    countsTimer = setTimeout(refreshCounts, 300); // a burst of events refreshes the counts once
  }

  function refreshCounts() {
    var query = inbox.getAttribute("data-query");
    fetch("/inbox/counts?" + query, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        var now = document.getElementById("inbox-views");
        if (html && now) {
          now.replaceWith(fromHtml(html));
        }
      });
  }

  function changed(id) {
    if (openConversation && openConversation.getAttribute("data-conversation") === id) {
      var note = document.getElementById("conversation-changed");
      if (!note) {
        note = document.createElement("div");
        note.id = "conversation-changed";
        note.className = "flash flash-info";
        note.setAttribute("role", "status");
        var link = document.createElement("a");
        link.href = window.location.pathname;
        link.textContent = "Reload to see it";
        note.append("This conversation has changed. ", link);
        openConversation.parentNode.insertBefore(note, openConversation);
      }
    }
  }

  // ---- the screen pop ----
  var pop = document.getElementById("screen-pop");
  var popCall = null;

  function line(text, cls) {
    var p = document.createElement("p");
    p.textContent = text;
    if (cls) {
      p.className = cls;
    }
    return p;
  }

  function screenPop(data) {
    if (!pop) {
      return;
    }
    var customer = data.customer || {};
    var conv = data.conversation;
    var call = data.call || {};
    popCall = data.call_id;
    var body = document.getElementById("screen-pop-body");
    body.replaceChildren();
    body.append(line(customer.name || "Unknown caller", "pop-name"));
    body.append(line("Calling from " + (call.from || "an unknown number"), "muted"));
    (customer.identities || []).slice(0, 4).forEach(function (i) {
      body.append(line(i.type + ": " + i.value, "small"));
    });
    if (conv) {
      body.append(line("Open conversation: " + (conv.subject || "(no subject)") + " (" + conv.status + ")", "strong"));
      (conv.last_messages || []).slice(-2).forEach(function (m) {
        body.append(line("“" + m.text + "” — " + m.channel_type, "small muted"));
      });
    } else {
      body.append(line("No open conversation: the call opens one when it ends.", "small muted"));
    }
    var open = document.getElementById("screen-pop-open");
    open.href = conv ? "/conversations/" + encodeURIComponent(conv.id) : "/customers/" + encodeURIComponent(customer.id || "");
    open.textContent = conv ? "Open conversation" : "Open customer";
    document.getElementById("screen-pop-customer").href = "/customers/" + encodeURIComponent(customer.id || "");
    document.getElementById("screen-pop-title").textContent = "Incoming call";
    pop.hidden = false;
    open.focus();
  }

  function callMoved(data, what) {
    if (pop && !pop.hidden && data.call_id === popCall) {
      document.getElementById("screen-pop-title").textContent = "Call " + what;
    }
  }

  // ---- the stream ----
  var source = new EventSource("/api/v1/stream?max_seconds=55");
  source.addEventListener("ready", function () { say("Live: new conversations appear by themselves."); });
  source.addEventListener("error", function () { say("Live updates reconnecting…"); });
  function onConversation(event) {
    var payload = JSON.parse(event.data);
    var id = payload.data && payload.data.conversation_id;
    if (!id) {
      return;
    }
    if (inbox && rows) {
      refreshRow(id);
    }
    changed(id);
  }
  ["conversation.created", "conversation.updated", "conversation.merged", "message.created",
    "message.updated", "escalation.created", "approval.requested", "approval.decided"].forEach(function (name) {
    source.addEventListener(name, onConversation);
  });
  source.addEventListener("call.ringing", function (event) { screenPop(JSON.parse(event.data).data); });
  source.addEventListener("call.answered", function (event) { callMoved(JSON.parse(event.data).data, "answered"); });
  source.addEventListener("call.ended", function (event) { callMoved(JSON.parse(event.data).data, "ended"); });
  window.addEventListener("pagehide", function () { source.close(); });
})();
