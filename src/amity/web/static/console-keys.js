// Amity console keyboard shortcuts: j/k next/previous conversation, Enter open, r reply, n note,
// e escalate, / search, ? help, Esc close. Keys typed into a field are left alone.
// The inbox remembers its order (sessionStorage), so j/k on a conversation page go to its neighbours.
"use strict";
(function () {
  var ORDER_KEY = "amity.inbox.order";
  var help = document.getElementById("shortcuts-help");
  var lastFocus = null;

  function rowLinks() {
    return Array.prototype.slice.call(document.querySelectorAll("#inbox-rows tr[data-row] a.row-link"));
  }

  function remember() {
    var ids = rowLinks().map(function (a) { return a.closest("tr").getAttribute("data-id"); });
    if (ids.length) {
      try { sessionStorage.setItem(ORDER_KEY, JSON.stringify(ids)); } catch (e) { /* private mode */ }
    }
  }

  function moveInInbox(step) {
    var links = rowLinks();
    if (!links.length) {
      return;
    }
    var at = links.indexOf(document.activeElement);
    var next = at < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, at + step));
    links.forEach(function (a) { a.closest("tr").classList.remove("row-selected"); });
    links[next].closest("tr").classList.add("row-selected");
    links[next].focus();
  }

  function moveFromConversation(step) {
    var here = document.querySelector("[data-conversation]");
    var ids = [];
    try { ids = JSON.parse(sessionStorage.getItem(ORDER_KEY) || "[]"); } catch (e) { ids = []; }
    var at = here ? ids.indexOf(here.getAttribute("data-conversation")) : -1;
    var next = ids[at + step];
    if (at >= 0 && next) {
      window.location.href = "/conversations/" + encodeURIComponent(next);
    }
  }

  function reply(asNote) {
    var box = document.querySelector("[data-reply]");
    var toggle = document.querySelector("[data-note-toggle]");
    if (!box) {
      return;
    }
    if (toggle) {
      toggle.checked = asNote;
      toggle.dispatchEvent(new Event("change", { bubbles: true }));
    }
    box.focus();
  }

  function openHelp() {
    if (help) {
      lastFocus = document.activeElement;
      help.hidden = false;
      help.querySelector("[data-overlay-close]").focus();
    }
  }

  function closeOverlays() {
    document.querySelectorAll(".overlay").forEach(function (o) { o.hidden = true; });
    if (lastFocus && lastFocus.focus) {
      lastFocus.focus();
      lastFocus = null;
    }
  }

  // The note toggle changes what the box is for; say so in its label and on the button.
  function syncNote() {
    var toggle = document.querySelector("[data-note-toggle]");
    if (!toggle) {
      return;
    }
    var form = toggle.closest("form");
    form.classList.toggle("is-note", toggle.checked);
    form.querySelector("[data-reply-label]").textContent = toggle.checked ? "Internal note" : "Message to the customer";
    form.querySelector("[data-reply-submit]").textContent = toggle.checked ? "Add note" : "Send";
    var channel = form.querySelector("[data-channel-field]");
    if (channel) {
      channel.hidden = toggle.checked;
    }
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-note-toggle]")) {
      syncNote();
    }
  });
  document.addEventListener("click", function (event) {
    var t = event.target.closest ? event.target.closest("[data-overlay-close], [data-shortcuts-open]") : null;
    if (t && t.hasAttribute("data-overlay-close")) {
      closeOverlays();
    } else if (t) {
      openHelp();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      closeOverlays();
      return;
    }
    if (event.key === "Tab" && help && !help.hidden) {
      // A modal dialog keeps focus inside itself; its only control is Close.
      event.preventDefault();
      help.querySelector("[data-overlay-close]").focus();
      return;
    }
    var el = event.target;
    var typing = el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
    if (typing || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var inInbox = !!document.getElementById("inbox-rows");
    var handled = true;
    switch (event.key) {
      case "j": if (inInbox) { moveInInbox(1); } else { moveFromConversation(1); } break;
      case "k": if (inInbox) { moveInInbox(-1); } else { moveFromConversation(-1); } break;
      case "r": reply(false); break;
      case "n": reply(true); break;
      case "e": var esc = document.querySelector("[data-escalate]"); if (esc) { esc.focus(); } break;
      case "/": var q = document.querySelector("[data-search]") || document.getElementById("top-q"); if (q) { q.focus(); } break;
      case "?": openHelp(); break;
      default: handled = false;
    }
    if (handled) {
      event.preventDefault();
    }
  });

  syncNote();
  remember();
  // Live updates reorder the inbox; keep the remembered order current.
  var body = document.getElementById("inbox-rows");
  if (body && window.MutationObserver) {
    new MutationObserver(remember).observe(body, { childList: true });
  }
})();
