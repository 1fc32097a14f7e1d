/* civicgen filters: narrow a list in the browser (progressive enhancement).

Without this script the page shows the whole list and the filter form stays hidden.
Markup it reads (the templates write it):

  <form class="civicgen-filter" data-filter-for="LIST-ID" hidden>
    <label for="f-status">Status</label>
    <select id="f-status" data-filter="status"><option value="">All</option>…</select>
    <button type="reset">Show all</button>
  </form>
  <p class="civicgen-filter-count" data-filter-count="LIST-ID" aria-live="polite"
     data-template="Showing {shown} of {total}."></p>
  <ul id="LIST-ID"><li data-status='["completed"]' …>…</li></ul>

Each item's data-<name> holds a JSON list of its values; an item stays when, for every
select with a value, that value is one of the item's. No inline handlers, no network.
*/
(function () {
  "use strict";

  function valuesOf(item, name) {
    var raw = item.getAttribute("data-" + name);
    if (raw === null) {
      return [];
    }
    try {
      var parsed = JSON.parse(raw);
      return Array.isArray(parsed) ? parsed.map(String) : [String(parsed)];
    } catch (error) {
      return [raw];
    }
  }

  function chosen(form) {
    var picked = [];
    form.querySelectorAll("select[data-filter]").forEach(function (select) {
      if (select.value !== "") {
        picked.push([select.getAttribute("data-filter"), select.value]);
      }
    });
    return picked;
  }

  function matches(item, picked) {
    return picked.every(function (pair) {
      return valuesOf(item, pair[0]).indexOf(pair[1]) >= 0;
    });
  }

  function formatted(n) {
    try {
      return new Intl.NumberFormat(document.documentElement.lang || undefined).format(n);
    } catch (error) {
      return String(n);
    }
  }

  function announce(output, shown, total) {
    if (!output) {
      return;
    }
    var template = output.getAttribute("data-template") || "{shown} / {total}";
    output.textContent = template
      .replace("{shown}", formatted(shown))
      .replace("{total}", formatted(total));
  }

  function apply(form, list, output) {
    var picked = chosen(form);
    var items = list.querySelectorAll("[data-filter-item]");
    var shown = 0;
    items.forEach(function (item) {
      var keep = matches(item, picked);
      item.hidden = !keep;
      shown += keep ? 1 : 0;
    });
    announce(output, shown, items.length);
  }

  function setUp(form) {
    var id = form.getAttribute("data-filter-for");
    var list = document.getElementById(id);
    if (!list) {
      return;
    }
    var output = document.querySelector('[data-filter-count="' + id + '"]');
    var update = function () {
      apply(form, list, output);
    };
    form.addEventListener("change", update);
    form.addEventListener("reset", function () {
      window.setTimeout(update, 0);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
    });
    form.hidden = false;
    if (output) {
      output.hidden = false;
    }
  }

  function start() {
    document.querySelectorAll("form.civicgen-filter[data-filter-for]").forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
