// Amity's page script: ask before a form with data-confirm changes something important, and name a
// file too big for a reply before it is sent. Pages work without it (the server checks everything).
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form instanceof HTMLFormElement ? form.getAttribute("data-confirm") : null;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// A file too big for a reply is named next to its field before the form is sent: a body over the
// server's cap would otherwise be refused before the page could explain (the server checks again).
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.hasAttribute("data-max-bytes")) {
    return;
  }
  var max = parseInt(input.getAttribute("data-max-bytes"), 10);
  var most = parseInt(input.getAttribute("data-max-files") || "0", 10);
  var problem = "";
  Array.prototype.forEach.call(input.files || [], function (f) {
    if (!problem && f.size > max) {
      problem = f.name + " is larger than " + max.toLocaleString("en") + " bytes, the most a reply may carry.";
    }
  });
  if (!problem && most && input.files && input.files.length > most) {
    problem = "At most " + most + " files in one reply.";
  }
  input.setCustomValidity(problem);
  var id = input.id + "-error";
  var note = document.getElementById(id);
  if (!note) {
    note = document.createElement("p");
    note.id = id;
    note.className = "field-error";
    note.setAttribute("role", "alert");
    input.parentNode.appendChild(note);
  }
  note.textContent = problem;
  note.hidden = !problem;
  input.setAttribute("aria-invalid", problem ? "true" : "false");
  var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (x) { return x && x !== id; });
  if (problem) { described.push(id); }
  input.setAttribute("aria-describedby", described.join(" "));
});
