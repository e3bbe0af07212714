/*! Amity chat widget. Embed with:
 *   <script src="https://amity.example/widget.js" data-channel="chn_…" async></script>
 * Optional: data-identity-token (signed by your server), data-title, data-color (#rrggbb), data-greeting.
 * Protocol: docs/channels/chat.md. Behaviour and accessibility: docs/widget.md.
 *
 * Plain JavaScript, no dependencies, no build step. Everything renders inside a Shadow DOM styled by a
 * constructed stylesheet, so the host page's CSS cannot break the widget, the widget's CSS cannot leak
 * into the page, and a host page whose CSP forbids inline styles still shows it.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) {
    // Some loaders (or very old browsers) leave currentScript empty: find the tag by its attribute.
    script = document.querySelector("script[data-channel][src*='widget.js']");
  }
  if (!script || window.AmityChat) {
    return; // not embedded as documented, or embedded twice: one widget per page
  }
  var channel = script.getAttribute("data-channel") || "";
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(channel)) {
    if (window.console) { console.warn("Amity chat: the script tag needs data-channel=\"chn_…\""); }
    return;
  }
  var amity = new URL(script.src, document.baseURI).origin;
  var base = amity + "/hooks/" + channel + "/chat";
  var wsBase = base.replace(/^http/, "ws");
  var KEY = "amity.chat." + channel; // per channel: two channels on one site are two visitors
  var HEX = /^#[0-9a-fA-F]{6}$/;
  var BACKOFF_MAX_MS = 30000;
  var TYPING_EVERY_MS = 2000;
  var EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

  var options = {
    title: script.getAttribute("data-title") || "",
    color: script.getAttribute("data-color") || "",
    greeting: script.getAttribute("data-greeting") || "",
    identityToken: script.getAttribute("data-identity-token") || window.amityIdentity || null
  };

  // ---- storage: localStorage can be missing or throw (private modes, blocked storage) -----------
  function load(name) {
    try { return window.localStorage.getItem(KEY + "." + name); } catch (e) { return null; }
  }
  function save(name, value) {
    try {
      if (value === null) { window.localStorage.removeItem(KEY + "." + name); }
      else { window.localStorage.setItem(KEY + "." + name, value); }
    } catch (e) { /* without storage the chat still works for this page view */ }
  }

  // ---- state --------------------------------------------------------------------------------------
  var state = {
    open: false,
    visitorId: null,
    verified: false,
    greeting: options.greeting,
    messages: {},     // id -> message, one copy per id (a reply can arrive in history and live)
    pending: [],      // messages sent but not yet acknowledged: {client_id, text, failed}
    ws: null,
    connecting: false,
    stopped: null,    // a reason the widget gave up (unknown channel, site not allowed, disabled)
    attempt: 0,
    retryTimer: null,
    lastTyping: 0,
    unread: 0,
    identified: load("identified"),
    counter: 0
  };

  // ---- DOM ----------------------------------------------------------------------------------------
  var host = document.createElement("div");
  host.setAttribute("data-amity-chat", "");
  var root = host.attachShadow({ mode: "open" });

  var CSS = [
    ":host { all: initial; position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;",
    "  font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif;",
    "  color: #1c2230; --primary: #4f46e5; --on-primary: #ffffff; }",
    "* { box-sizing: border-box; }",
    "[hidden] { display: none !important; }",
    ".sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }",
    "button, textarea, input { font: inherit; color: inherit; }",
    ":focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }",
    ".launcher { width: 58px; height: 58px; border-radius: 50%; border: 0; cursor: pointer; display: grid; place-items: center;",
    "  background: var(--primary); color: var(--on-primary); box-shadow: 0 6px 20px rgba(16,24,40,.25); margin-left: auto; position: relative; }",
    ".launcher svg { width: 28px; height: 28px; fill: none; stroke: currentColor; stroke-width: 2; stroke-linecap: round; stroke-linejoin: round; }",
    ".launcher .icon-close, .launcher[aria-expanded='true'] .icon-chat { display: none; }",
    ".launcher[aria-expanded='true'] .icon-close { display: block; }",
    ".badge { position: absolute; top: -2px; right: -2px; min-width: 20px; height: 20px; padding: 0 5px; border-radius: 10px;",
    "  background: #dc2626; color: #fff; font-size: 12px; font-weight: 700; line-height: 20px; text-align: center; }",
    ".panel { position: absolute; right: 0; bottom: 72px; width: min(370px, calc(100vw - 40px)); height: min(560px, calc(100vh - 120px));",
    "  display: flex; flex-direction: column; background: #fff; border-radius: 14px; overflow: hidden;",
    "  box-shadow: 0 12px 40px rgba(16,24,40,.28); border: 1px solid #e2e5ec; }",
    ".head { background: var(--primary); color: var(--on-primary); padding: 14px 16px; display: flex; align-items: flex-start; gap: 10px; }",
    ".head h2 { font-size: 16px; margin: 0; font-weight: 700; }",
    ".head p { margin: 2px 0 0; font-size: 13px; opacity: .9; }",
    ".head .titles { flex: 1; min-width: 0; }",
    ".close { background: transparent; border: 0; color: inherit; cursor: pointer; width: 32px; height: 32px; border-radius: 8px; font-size: 22px; line-height: 1; }",
    ".close:hover { background: rgba(255,255,255,.18); }",
    ".log { flex: 1; overflow-y: auto; margin: 0; padding: 14px; list-style: none; background: #f7f8fb; display: flex; flex-direction: column; gap: 8px; }",
    ".msg { max-width: 82%; padding: 8px 12px; border-radius: 14px; white-space: pre-wrap; overflow-wrap: anywhere; }",
    ".msg a.file { color: inherit; font-weight: 600; text-decoration: underline; }",
    ".msg .who { display: block; font-size: 11px; font-weight: 600; opacity: .75; margin-bottom: 2px; }",
    ".msg.out, .msg.greeting { align-self: flex-start; background: #fff; border: 1px solid #e2e5ec; border-bottom-left-radius: 4px; }",
    ".msg.in { align-self: flex-end; background: var(--primary); color: var(--on-primary); border-bottom-right-radius: 4px; }",
    ".msg.pending { opacity: .65; }",
    ".msg.failed { outline: 2px solid #dc2626; }",
    ".msg .retry { display: block; margin-top: 4px; background: #fff; color: #b91c1c; border: 0; border-radius: 6px; padding: 2px 8px; cursor: pointer; font-size: 12px; }",
    ".status { padding: 6px 14px; font-size: 12.5px; color: #5b6474; background: #fff; border-top: 1px solid #eef0f4; }",
    ".status:empty { display: none; }",
    ".identify { display: flex; gap: 6px; padding: 8px 12px; border-top: 1px solid #eef0f4; background: #fff; flex-wrap: wrap; align-items: center; }",
    ".identify label { width: 100%; font-size: 12.5px; color: #5b6474; }",
    ".identify input { flex: 1; min-width: 0; padding: 6px 9px; border: 1px solid #cfd4de; border-radius: 8px; }",
    ".composer { display: flex; gap: 8px; padding: 10px 12px; border-top: 1px solid #e2e5ec; background: #fff; align-items: flex-end; }",
    ".composer textarea { flex: 1; resize: none; min-height: 40px; max-height: 120px; padding: 9px 11px; border: 1px solid #cfd4de; border-radius: 10px; }",
    ".btn { border: 0; border-radius: 10px; padding: 9px 14px; background: var(--primary); color: var(--on-primary); font-weight: 600; cursor: pointer; }",
    ".btn.small { padding: 6px 10px; font-size: 13px; }",
    ".btn:disabled { opacity: .5; cursor: default; }",
    "@media (max-width: 480px) { :host { right: 12px; bottom: 12px; } .panel { width: calc(100vw - 24px); height: calc(100vh - 96px); } }",
    "@media (prefers-reduced-motion: no-preference) { .panel { animation: rise .16s ease-out; } @keyframes rise { from { transform: translateY(8px); opacity: 0; } } }"
  ].join("\n");

  function adopt(cssText) {
    // Constructed stylesheets are not inline styles, so a host CSP without 'unsafe-inline' allows them.
    if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function") {
      try {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(cssText);
        root.adoptedStyleSheets = root.adoptedStyleSheets.concat([sheet]);
        return;
      } catch (e) { /* fall through to a <style> element */ }
    }
    var style = document.createElement("style");
    style.textContent = cssText;
    root.appendChild(style);
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attrs[name]; }
      else if (attrs[name] === true) { node.setAttribute(name, ""); }
      else if (attrs[name] !== false && attrs[name] !== null) { node.setAttribute(name, attrs[name]); }
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function svg(kind, d) {
    var ns = "http://www.w3.org/2000/svg";
    var icon = document.createElementNS(ns, "svg");
    icon.setAttribute("viewBox", "0 0 24 24");
    icon.setAttribute("aria-hidden", "true");
    icon.setAttribute("class", kind);
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    icon.appendChild(path);
    return icon;
  }

  var titleText = el("h2", { id: "amity-title", text: options.title || "Chat with us" });
  var subtitle = el("p", { id: "amity-subtitle", text: "We usually answer within minutes." });
  var closeBtn = el("button", { type: "button", "class": "close", "aria-label": "Close chat", text: "×" });
  var log = el("ol", { "class": "log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
  var status = el("p", { "class": "status", role: "status" });
  var emailInput = el("input", { id: "amity-email", type: "email", autocomplete: "email", maxlength: "320", placeholder: "you@example.com" });
  var identifyForm = el("form", { "class": "identify", hidden: true }, [
    el("label", { "for": "amity-email", text: "Leave your email so we can reply if you go." }),
    emailInput,
    el("button", { type: "submit", "class": "btn small", text: "Save" })
  ]);
  var textarea = el("textarea", { id: "amity-text", rows: "1", maxlength: "10000", placeholder: "Write a message…" });
  var sendBtn = el("button", { type: "submit", "class": "btn", text: "Send" });
  var composer = el("form", { "class": "composer" }, [
    el("label", { "for": "amity-text", "class": "sr-only", text: "Message" }), textarea, sendBtn
  ]);
  var panel = el("section", {
    id: "amity-panel", "class": "panel", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "amity-title", "aria-describedby": "amity-subtitle", hidden: true
  }, [
    el("header", { "class": "head" }, [el("div", { "class": "titles" }, [titleText, subtitle]), closeBtn]),
    log, status, identifyForm, composer
  ]);
  var badge = el("span", { "class": "badge", "aria-hidden": "true", hidden: true });
  var launcher = el("button", {
    type: "button", "class": "launcher", "aria-haspopup": "dialog", "aria-expanded": "false", "aria-controls": "amity-panel"
  }, [
    svg("icon-chat", "M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12z"),
    svg("icon-close", "M6 9l6 6 6-6"),
    badge
  ]);

  adopt(CSS);
  root.appendChild(panel);
  root.appendChild(launcher);

  function brand(primary) {
    if (!HEX.test(primary || "")) { return; }
    // Only a checked #rrggbb reaches the stylesheet, so a page or a brand cannot inject CSS.
    adopt(":host { --primary: " + primary + "; --on-primary: " + textOn(primary) + "; }");
  }
  function textOn(hex) {
    function lin(c) { c = c / 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); }
    var n = parseInt(hex.slice(1), 16);
    var l = 0.2126 * lin((n >> 16) & 255) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
    return 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 ? "#ffffff" : "#111111";
  }
  function setLauncherLabel() {
    var name = titleText.textContent;
    var label = (state.open ? "Close chat: " : "Open chat: ") + name;
    if (state.unread && !state.open) { label += " (" + state.unread + " new)"; }
    launcher.setAttribute("aria-label", label);
    launcher.setAttribute("aria-expanded", state.open ? "true" : "false");
    badge.textContent = String(state.unread);
    badge.hidden = !state.unread || state.open;
  }
  setLauncherLabel();

  // ---- rendering ----------------------------------------------------------------------------------
  function who(m) {
    if (m.direction === "in") { return "You"; }
    return m.author_type === "system" ? titleText.textContent : "Agent";
  }
  var nodes = {}; // key ("m:<id>", "c:<client_id>", "greeting") -> its <li>, kept between renders

  function bubble(key, kind, whoText, text) {
    // Nodes are created once and then reused: the log is a live region, and a rebuilt transcript would
    // be read out again from the top by screen readers on every new message.
    var li = nodes[key];
    if (!li) {
      li = el("li", {}, [el("span", { "class": "who" }), el("span", { "class": "body" })]);
      nodes[key] = li;
    }
    li.className = "msg " + kind;
    if (li.firstChild.textContent !== whoText) { li.firstChild.textContent = whoText; }
    if (li.childNodes[1].getAttribute("data-text") !== text) { setBody(li.childNodes[1], text); }
    return li;
  }
  // Text only, never HTML: the transcript is put in someone else's page. The one thing made a link is
  // a file an agent attached ("Attached: <name> <url>", the url on this Amity under /files/).
  var FILE_LINE = /^Attached: (.+) (https?:\/\/\S+)$/;
  function setBody(span, text) {
    span.setAttribute("data-text", text);
    span.replaceChildren();
    text.split("\n").forEach(function (line, i, all) {
      var m = FILE_LINE.exec(line);
      if (m && m[2].indexOf(amity + "/files/") === 0) {
        span.appendChild(document.createTextNode("Attached: "));
        span.appendChild(el("a", { "class": "file", href: m[2], target: "_blank", rel: "noopener noreferrer", text: m[1] }));
      } else {
        span.appendChild(document.createTextNode(line));
      }
      if (i < all.length - 1) { span.appendChild(document.createTextNode("\n")); }
    });
  }
  function mark(li, p) {
    // "sending", "failed" or "" (stored), written into the node only when it changes.
    var now = p ? (p.failed ? "failed" : "sending") : "";
    if ((li.getAttribute("data-state") || "") === now) { return; }
    li.setAttribute("data-state", now);
    Array.prototype.slice.call(li.querySelectorAll(".extra")).forEach(function (x) { li.removeChild(x); });
    if (!p) { return; }
    li.appendChild(el("span", { "class": "sr-only extra", text: p.failed ? " (not sent)" : " (sending)" }));
    if (p.failed) {
      var retry = el("button", { type: "button", "class": "retry extra", text: "Not sent. Retry" });
      retry.addEventListener("click", function () { p.failed = false; render(); flush(); });
      li.appendChild(retry);
    }
  }
  function render() {
    var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    var list = Object.keys(state.messages).map(function (id) { return state.messages[id]; });
    list.sort(function (a, b) {
      return (Date.parse(a.created_at) - Date.parse(b.created_at)) || (a.id < b.id ? -1 : 1);
    });
    var items = [];
    if (state.greeting) { items.push(bubble("greeting", "greeting", titleText.textContent, state.greeting)); }
    list.forEach(function (m) {
      var key = "m:" + m.id;
      if (!nodes[key] && m.client_id && nodes["c:" + m.client_id]) {
        nodes[key] = nodes["c:" + m.client_id]; // the pending bubble becomes the stored message
        delete nodes["c:" + m.client_id];
      }
      var li = bubble(key, m.direction === "in" ? "in" : "out", who(m), m.text);
      li.setAttribute("data-id", m.id);
      li.removeAttribute("data-client-id");
      mark(li, null);
      items.push(li);
    });
    state.pending.forEach(function (p) {
      var li = bubble("c:" + p.client_id, "in pending" + (p.failed ? " failed" : ""), "You", p.text);
      li.setAttribute("data-client-id", p.client_id);
      mark(li, p);
      items.push(li);
    });
    var wanted = items;
    Object.keys(nodes).forEach(function (key) {
      if (wanted.indexOf(nodes[key]) < 0) { delete nodes[key]; }
    });
    Array.prototype.slice.call(log.children).forEach(function (child) {
      if (wanted.indexOf(child) < 0) { log.removeChild(child); }
    });
    items.forEach(function (li, i) {
      if (log.children[i] !== li) { log.insertBefore(li, log.children[i] || null); }
    });
    if (atBottom || state.open) { log.scrollTop = log.scrollHeight; }
    var wrote = list.some(function (m) { return m.direction === "in"; }) || state.pending.length > 0;
    identifyForm.hidden = !wrote || state.verified || !!state.identified;
    countUnread(list);
  }
  function countUnread(list) {
    // Replies newer than the last one the visitor had in front of them, kept across reloads, so a
    // reply that came while they were away shows on the launcher when they come back.
    var last = list.length ? list[list.length - 1].created_at : null;
    if (state.open) {
      if (last) { save("seen", last); }
      state.unread = 0;
    } else {
      var seen = Date.parse(load("seen") || "") || 0;
      state.unread = list.filter(function (m) {
        return m.direction === "out" && Date.parse(m.created_at) > seen;
      }).length;
    }
    setLauncherLabel();
  }
  function say(text) { status.textContent = text; }

  // ---- opening and closing ------------------------------------------------------------------------
  function open(prefill) {
    if (!state.open) {
      state.open = true;
      panel.hidden = false;
      render();
    }
    if (prefill && !textarea.value) { textarea.value = prefill; fit(); }
    connect(); // the socket opens when the visitor first needs it, not on every page view
    textarea.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
  }
  function close() {
    if (!state.open) { return; }
    state.open = false;
    panel.hidden = true;
    render();
    launcher.focus(); // focus returns where it came from
  }
  launcher.addEventListener("click", function () { if (state.open) { close(); } else { open(); } });
  closeBtn.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); close(); }
  });
  // Links on the host page open the chat: <a href="#contact" data-amity-open data-amity-message="…">.
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-amity-open]") : null;
    if (!target) { return; }
    event.preventDefault();
    open(target.getAttribute("data-amity-message") || "");
  });

  // ---- the session and the socket -----------------------------------------------------------------
  function stop(reason) {
    state.stopped = reason;
    clearTimeout(state.retryTimer);
    say(reason);
    sendBtn.disabled = true;
  }
  function retryLater() {
    if (state.stopped) { return; }
    // Exponential backoff with jitter, so a server restart is not met by every visitor at once.
    var delay = Math.min(BACKOFF_MAX_MS, 1000 * Math.pow(2, state.attempt)) * (0.75 + Math.random() * 0.5);
    state.attempt += 1;
    say("Connection lost. Reconnecting in " + Math.ceil(delay / 1000) + " s…");
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(connect, delay);
  }

  function session() {
    var body = {};
    var token = load("visitor_token");
    if (token) { body.visitor_token = token; }
    if (options.identityToken) { body.identity_token = options.identityToken; }
    return fetch(base + "/session", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
      mode: "cors"
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data }; });
    });
  }

  function fieldOf(data) {
    return String((data && data.errors && data.errors[0] && data.errors[0].field) || "");
  }

  function connect() {
    if (state.ws || state.connecting || state.stopped) { return; }
    state.connecting = true;
    clearTimeout(state.retryTimer);
    if (state.attempt === 0) { say("Connecting…"); }
    session().then(function (res) {
      state.connecting = false;
      var field = fieldOf(res.data);
      var refused = res.status === 401 || res.status === 422;
      if (refused && field === "visitor_token") {
        save("visitor_token", null); // forged, expired or another channel's: start afresh
        state.messages = {};
        connect();
        return;
      }
      if (refused && field.indexOf("identity_token") === 0 && options.identityToken) {
        options.identityToken = null; // expired or mis-signed: carry on as an anonymous visitor
        connect();
        return;
      }
      if (res.status === 403) { stop("Chat is not available on this site."); return; }
      if (res.status === 404) { stop("This chat does not exist."); return; }
      if (res.status === 409) { stop("Chat is closed right now."); return; }
      if (res.status !== 200) { retryLater(); return; }
      var s = res.data;
      if (state.visitorId && s.visitor_id !== state.visitorId) { state.messages = {}; } // someone else now
      state.visitorId = s.visitor_id;
      state.verified = !!s.verified;
      if (s.greeting && !options.greeting) { state.greeting = s.greeting; }
      save("visitor_token", s.visitor_token);
      socket(s.visitor_token);
    }, function () {
      state.connecting = false;
      retryLater();
    });
  }

  function socket(token) {
    var ws = new WebSocket(wsBase + "/ws?token=" + encodeURIComponent(token));
    state.ws = ws;
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      handle(frame);
    };
    ws.onclose = function (event) {
      state.ws = null;
      if (event.code === 1008) {
        if (event.reason === "invalid visitor token") { save("visitor_token", null); connect(); return; }
        if (event.reason === "origin not allowed") { stop("Chat is not available on this site."); return; }
        if (event.reason === "channel disabled") { stop("Chat is closed right now."); return; }
        if (event.reason === "unknown channel") { stop("This chat does not exist."); return; }
      }
      retryLater(); // 1000, 1001, 1006, 1011: a network problem or a restart
    };
  }

  function send(frame) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) {
      state.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }
  function flush() {
    // Unacknowledged messages go again with the same client_id: the server stores each one once.
    state.pending.forEach(function (p) {
      if (!p.failed) { send({ type: "message", text: p.text, client_id: p.client_id }); }
    });
    if (!state.ws) { connect(); }
  }

  function upsert(m) {
    state.messages[m.id] = m;
    if (m.client_id) {
      state.pending = state.pending.filter(function (p) { return p.client_id !== m.client_id; });
    }
  }

  function handle(frame) {
    if (frame.type === "ready") {
      state.attempt = 0;
      state.verified = !!frame.verified;
      if (frame.greeting && !options.greeting) { state.greeting = frame.greeting; }
      say("");
      sendBtn.disabled = false;
    } else if (frame.type === "history") {
      (frame.messages || []).forEach(upsert);
      if ((frame.messages || []).length) { save("active", "1"); }
      render();
      flush();
    } else if (frame.type === "message") {
      upsert(frame);
      save("active", "1");
      render();
    } else if (frame.type === "identified") {
      state.identified = frame.email;
      save("identified", "1"); // a flag, not the address: nothing personal is kept in the browser
      say("Thanks. We can reply to " + frame.email + ".");
      render();
    } else if (frame.type === "error") {
      if (frame.client_id) {
        state.pending.forEach(function (p) { if (p.client_id === frame.client_id) { p.failed = true; } });
        render();
      } else if (frame.field === "email") {
        say("That email address does not look right.");
        emailInput.focus();
      } else {
        say(frame.message || "Something went wrong. Try again.");
      }
    }
  }

  function newClientId() {
    state.counter += 1;
    var random = Math.random().toString(36).slice(2, 10);
    return "w-" + Date.now().toString(36) + "-" + random + "-" + state.counter;
  }

  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = textarea.value.trim();
    if (!text || state.stopped) { return; }
    var p = { client_id: newClientId(), text: text, failed: false };
    state.pending.push(p);
    textarea.value = "";
    fit();
    render();
    if (!send({ type: "message", text: p.text, client_id: p.client_id })) {
      say("Not connected; your message goes as soon as we are.");
      connect();
    }
    textarea.focus();
  });
  textarea.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit ? composer.requestSubmit() : composer.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  function fit() {
    // The box grows with what is written, up to its CSS max-height. Setting a property through the
    // CSSOM is not an inline style attribute, so a strict host CSP allows it.
    textarea.style.height = "auto";
    textarea.style.height = textarea.scrollHeight + 2 + "px";
  }
  textarea.addEventListener("input", fit);
  textarea.addEventListener("input", function () {
    var now = Date.now();
    if (now - state.lastTyping >= TYPING_EVERY_MS && textarea.value.trim()) {
      state.lastTyping = now;
      send({ type: "typing" });
    }
  });
  identifyForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var email = emailInput.value.trim();
    if (!EMAIL.test(email)) { say("That email address does not look right."); emailInput.focus(); return; }
    if (!send({ type: "identify", email: email })) { say("Not connected yet; try again in a moment."); }
  });

  // ---- start --------------------------------------------------------------------------------------
  brand(options.color);
  // The channel's brand (name, colours) unless the embed code set its own, and whether this site may
  // chat at all: the session door refuses a site that is not allowed without CORS headers, which
  // reaches us as a bare network error, so this answer is what tells "not allowed" from "offline".
  fetch(amity + "/widget/channels/" + channel, { credentials: "omit", mode: "cors" })
    .then(function (r) {
      if (r.status === 403) { stop("Chat is not available on this site."); return null; }
      if (r.status === 404) { stop("This chat does not exist."); return null; }
      return r.ok ? r.json() : null;
    })
    .then(function (info) {
      if (!info) { return; }
      if (info.enabled === false) { stop("Chat is closed right now."); }
      if (!info.brand) { return; }
      if (!options.title) { titleText.textContent = info.brand.name; render(); }
      if (!HEX.test(options.color)) { brand(info.brand.colours && info.brand.colours.primary); }
    })
    .catch(function () { /* offline: the default look, and the session retries with backoff */ });
  (document.body || document.documentElement).appendChild(host);
  // A visitor who has chatted before gets replies live (and a badge) without opening the panel; a
  // first-time visitor costs the server nothing until they open the chat.
  if (load("active") && load("visitor_token")) { connect(); }

  window.AmityChat = {
    open: function (message) { open(typeof message === "string" ? message : ""); },
    close: close
  };
})();
