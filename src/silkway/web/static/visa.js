/* The visa pages' small helpers: the live preview of the name in the machine-readable zone (the server
   transliterates; this only asks and shows), the rows of states, and copying the secret status link. */
(function () {
  "use strict";

  function mrzPreview() {
    var box = document.querySelector(".mrz-preview[data-endpoint]");
    if (!box) { return; }
    var surname = document.querySelector("[data-mrz=surname]");
    var given = document.querySelector("[data-mrz=given_names]");
    var zone = document.getElementById("mrz-zone");
    var words = document.getElementById("mrz-words");
    var warning = document.getElementById("mrz-warning");
    var timer = null;
    var asked = 0;

    function mark(input, bad) {
      input.classList.toggle("mrz-bad", bad);
    }

    function show(answer) {
      mark(surname, answer.field === "surname");
      mark(given, answer.field === "given_names");
      if (answer.ok) {
        zone.textContent = answer.zone;
        words.textContent = answer.message;
        warning.textContent = answer.truncated || "";
        warning.hidden = !answer.truncated;
        box.classList.remove("mrz-problem");
      } else {
        zone.textContent = "";
        words.textContent = "";
        warning.textContent = answer.message;
        warning.hidden = !answer.message;
        box.classList.toggle("mrz-problem", Boolean(answer.message));
      }
    }

    function ask() {
      var mine = ++asked;
      var url = box.getAttribute("data-endpoint") + "?surname=" + encodeURIComponent(surname.value) +
        "&given_names=" + encodeURIComponent(given.value);
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (answer) { if (mine === asked) { show(answer); } })
        .catch(function () { /* the server checks the names again when the form is sent */ });
    }

    function later() {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(ask, 200);
    }

    surname.addEventListener("input", later);
    given.addEventListener("input", later);
    if (surname.value || given.value) { ask(); }
  }

  function stateRows() {
    var rows = Array.prototype.slice.call(document.querySelectorAll("[data-state-row]"));
    var add = document.getElementById("add-state");
    if (!rows.length || !add) { return; }
    function filled(row) {
      return Array.prototype.some.call(row.querySelectorAll("select, input"), function (el) { return el.value; }) ||
        row.querySelector(".has-error") !== null;
    }
    var last = 0;
    rows.forEach(function (row, i) { if (filled(row)) { last = i; } });
    var shown = Math.max(last + 1, 2);
    rows.forEach(function (row, i) { row.hidden = i >= shown; });
    add.hidden = shown >= rows.length;
    add.addEventListener("click", function () {
      var next = rows.filter(function (row) { return row.hidden; })[0];
      if (!next) { return; }
      next.hidden = false;
      next.querySelector("select").focus();
      add.hidden = rows.every(function (row) { return !row.hidden; });
    });
  }

  function copyLink() {
    var button = document.getElementById("copy-link");
    if (!button || !navigator.clipboard) { return; }
    var status = document.getElementById("copy-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
        status.textContent = button.getAttribute("data-copied");
      });
    });
  }

  mrzPreview();
  stateRows();
  copyLink();
})();
