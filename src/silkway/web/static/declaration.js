// The declaration form, helped along: goods items and border crossings added and removed, the HS code
// searched as it is typed, and each border crossing checked against the reference data as it is chosen.
// Without this script the form still works: it shows a few blank rows and the server checks everything.
(function () {
  "use strict";

  var form = document.getElementById("declaration");
  if (!form) { return; }
  var msg = form.dataset;

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (whole, key) { return key in values ? values[key] : whole; });
  }

  // --- rows: goods items and border crossings -------------------------------------------------------

  function Rows(container, template, addButton, rowClass, minimum) {
    this.minimum = minimum;
    this.container = container;
    this.template = template;
    this.addButton = addButton;
    this.rowClass = rowClass;
    this.next = 0;
    var self = this;
    this.rows().forEach(function (row) { self.next = Math.max(self.next, Number(row.dataset.row) + 1); });
    // the spare blank rows are for a browser without this script; here rows are added on demand
    this.rows().forEach(function (row) {
      if (row.hasAttribute("data-spare") && isBlank(row)) { row.remove(); }
    });
    addButton.hidden = false;
    addButton.addEventListener("click", function () { self.add(); });
    container.addEventListener("click", function (event) {
      var button = event.target.closest(".remove-row");
      if (button) { self.remove(button.closest("." + rowClass)); }
    });
    this.refresh();
  }

  Rows.prototype.rows = function () {
    return Array.prototype.slice.call(this.container.querySelectorAll("." + this.rowClass));
  };

  Rows.prototype.add = function () {
    var index = this.next++;
    var html = this.template.innerHTML.replace(/__i__/g, String(index)).replace(/__n__/g, String(this.rows().length + 1));
    this.container.insertAdjacentHTML("beforeend", html);
    this.refresh();
    var added = this.rows().pop();
    var first = added.querySelector("input, select");
    if (first) { first.focus(); }
    form.dispatchEvent(new CustomEvent("rows-changed"));
  };

  Rows.prototype.remove = function (row) {
    var rows = this.rows();
    var at = rows.indexOf(row);
    row.remove();
    this.refresh();
    var left = this.rows();
    var focus = left[Math.min(at, left.length - 1)];
    (focus ? focus.querySelector("input, select") : this.addButton).focus();
    announce(msg.msgRemoved);
    form.dispatchEvent(new CustomEvent("rows-changed"));
  };

  Rows.prototype.refresh = function () {
    var rows = this.rows();
    var minimum = this.minimum;
    rows.forEach(function (row, i) {
      var legend = row.querySelector(".row-legend");
      legend.textContent = fill(legend.dataset.template, { num: String(i + 1) });
      row.querySelector(".remove-row").hidden = rows.length <= minimum;
    });
  };

  function isBlank(row) {
    return Array.prototype.every.call(row.querySelectorAll("input:not([type=hidden])"), function (input) {
      return !input.value.trim();
    }) && Array.prototype.every.call(row.querySelectorAll("select.office"), function (select) { return !select.value; });
  }

  var announcer = document.createElement("p");
  announcer.className = "visually-hidden";
  announcer.setAttribute("aria-live", "polite");
  form.appendChild(announcer);
  function announce(text) {
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  new Rows(document.getElementById("goods-rows"), document.getElementById("goods-template"),
    document.getElementById("add-goods"), "goods-row", 1);
  new Rows(document.getElementById("crossings"), document.getElementById("crossing-template"),
    document.getElementById("add-crossing"), "crossing-row", 0);

  // --- the itinerary, checked against the crossing points of the reference data ------------------

  var crossings = null;  // "A|B" -> crossing, both directions

  fetch("/api/v1/crossings", { headers: { Accept: "application/json" } })
    .then(function (response) { return response.ok ? response.json() : []; })
    .then(function (list) {
      crossings = {};
      list.forEach(function (c) {
        crossings[c.offices[0] + "|" + c.offices[1]] = c;
        crossings[c.offices[1] + "|" + c.offices[0]] = c;
      });
      checkRoute();
    })
    .catch(function () { crossings = null; });

  function countryOf(select) {
    var option = select.options[select.selectedIndex];
    return option && option.value ? option.dataset.country : "";
  }

  function say(element, text, good) {
    if (element.textContent === text) { return; }
    element.textContent = text;
    element.classList.toggle("ok", Boolean(text) && good);
    element.classList.toggle("bad", Boolean(text) && !good);
  }

  function checkRoute() {
    var departure = document.getElementById("f-departure");
    var reached = countryOf(departure);
    document.querySelectorAll("#crossings .crossing-row").forEach(function (row) {
      var exit = row.querySelector("select.exit");
      var entry = row.querySelector("select.entry");
      var check = row.querySelector(".check");
      if (!exit.value && !entry.value) { say(check, "", true); return; }
      if (exit.value && !entry.value && crossings) {
        // one side chosen: offer the office across the border when a single crossing point has it
        var across = Object.keys(crossings).filter(function (key) { return key.indexOf(exit.value + "|") === 0; });
        if (across.length === 1) {
          var other = across[0].split("|")[1];
          if (entry.querySelector('option[value="' + other + '"]')) { entry.value = other; }
        }
      }
      if (!exit.value || !entry.value) { say(check, "", true); return; }
      if (reached && countryOf(exit) !== reached) {
        say(check, msg.msgGap, false);
      } else if (countryOf(exit) === countryOf(entry)) {
        say(check, msg.msgSameState, false);
      } else if (crossings) {
        var found = crossings[exit.value + "|" + entry.value];
        say(check, found ? fill(msg.msgCrossing, { name: found.name }) : msg.msgNoCrossing, Boolean(found));
      }
      reached = countryOf(entry);
    });
    var destination = document.getElementById("f-destination");
    var destinationCheck = document.getElementById("destination-check");
    if (destination.value && reached && countryOf(destination) !== reached) {
      say(destinationCheck, msg.msgDestination, false);
    } else {
      say(destinationCheck, "", true);
    }
  }

  form.addEventListener("change", function (event) {
    if (event.target.matches("select.office")) { checkRoute(); }
    if (event.target.id === "f-guarantee-reference") { guaranteeChosen(event.target); }
  });
  form.addEventListener("rows-changed", checkRoute);

  // --- the guarantee's currency follows the guarantee --------------------------------------------

  function guaranteeChosen(select) {
    var option = select.options[select.selectedIndex];
    var currency = document.getElementById("f-guarantee-currency");
    if (option && option.dataset.currency && currency) { currency.value = option.dataset.currency; }
  }

  // --- HS codes, searched as they are typed (an ARIA combobox) -----------------------------------

  var timers = new WeakMap();
  var counter = 0;

  function listOf(input) { return document.getElementById(input.getAttribute("aria-controls")); }
  function statusOf(input) { return document.getElementById(input.id + "-status"); }

  function close(input) {
    var list = listOf(input);
    list.hidden = true;
    list.innerHTML = "";
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function search(input) {
    var q = input.value.trim();
    if (q.length < 2 || /^\d{6}$/.test(q.replace(/[.\s]/g, ""))) { close(input); return; }
    var asked = ++counter;
    input.dataset.asked = String(asked);
    fetch("/api/v1/hs?limit=8&q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
      .then(function (response) { if (!response.ok) { throw new Error(String(response.status)); } return response.json(); })
      .then(function (found) {
        if (input.dataset.asked !== String(asked)) { return; }  // a newer search has been sent
        var subheadings = found.filter(function (h) { return h.level === 6; });
        show(input, subheadings);
      })
      .catch(function () { statusOf(input).textContent = msg.msgOffline; });
  }

  function show(input, headings) {
    var list = listOf(input);
    list.innerHTML = "";
    headings.forEach(function (h, i) {
      var item = document.createElement("li");
      item.id = list.id + "-" + i;
      item.setAttribute("role", "option");
      item.lang = "en";
      item.setAttribute("aria-selected", "false");
      item.dataset.code = h.code;
      item.dataset.description = h.description;
      var code = document.createElement("strong");
      code.textContent = h.code;
      item.appendChild(code);
      item.appendChild(document.createTextNode(" " + h.description));
      list.appendChild(item);
    });
    list.hidden = headings.length === 0;
    input.setAttribute("aria-expanded", headings.length ? "true" : "false");
    statusOf(input).textContent = headings.length ? fill(msg.msgFound, { count: String(headings.length) }) : msg.msgNone;
  }

  function move(input, step) {
    var items = Array.prototype.slice.call(listOf(input).querySelectorAll("[role=option]"));
    if (!items.length) { return; }
    var at = items.findIndex(function (item) { return item.getAttribute("aria-selected") === "true"; });
    var next = (at + step + items.length) % items.length;
    items.forEach(function (item, i) { item.setAttribute("aria-selected", i === next ? "true" : "false"); });
    input.setAttribute("aria-activedescendant", items[next].id);
    items[next].scrollIntoView({ block: "nearest" });
  }

  function pick(input, item) {
    input.value = item.dataset.code;
    var row = input.closest(".goods-row");
    var description = row && row.querySelector(".goods-description");
    if (description && !description.value.trim()) { description.value = item.dataset.description.slice(0, 512); }
    close(input);
    statusOf(input).textContent = item.dataset.code + " " + item.dataset.description;
    input.focus();
  }

  form.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.classList.contains("hs-code")) { return; }
    window.clearTimeout(timers.get(input));
    timers.set(input, window.setTimeout(function () { search(input); }, 250));
  });

  form.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("hs-code")) { return; }
    var open = input.getAttribute("aria-expanded") === "true";
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (open) { event.preventDefault(); move(input, event.key === "ArrowDown" ? 1 : -1); }
    } else if (event.key === "Enter" && open) {
      var chosen = listOf(input).querySelector('[aria-selected="true"]');
      if (chosen) { event.preventDefault(); pick(input, chosen); }
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      close(input);
    }
  });

  // a click (or tap) on a suggestion picks it; mousedown keeps the focus in the input meanwhile
  form.addEventListener("mousedown", function (event) {
    if (event.target.closest(".suggestions [role=option]")) { event.preventDefault(); }
  });
  form.addEventListener("click", function (event) {
    var item = event.target.closest(".suggestions [role=option]");
    if (item) { pick(item.closest(".hs-search").querySelector(".hs-code"), item); }
  });
  form.addEventListener("focusout", function (event) {
    var input = event.target;
    if (input.classList && input.classList.contains("hs-code")) {
      window.setTimeout(function () { if (document.activeElement !== input) { close(input); } }, 150);
    }
  });

  // --- one declaration per click -----------------------------------------------------------------

  form.addEventListener("submit", function () {
    var button = document.getElementById("lodge");
    window.setTimeout(function () { button.disabled = true; }, 0);
  });

  checkRoute();
}());
