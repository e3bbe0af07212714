// Amity's only script: ask before a form with data-confirm changes something important.
// Pages work without it (the server checks everything); it just prevents a slip of the mouse.
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form instanceof HTMLFormElement ? form.getAttribute("data-confirm") : null;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
