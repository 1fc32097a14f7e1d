/* civicgen compare: the tool comparison table narrowed to the tools a person chooses.

Without this script the page shows every tool's column and the form stays hidden.
Markup it reads (tools-compare.html writes it):

  <form class="civicgen-compare" data-compare-for="TABLE-ID" data-max="4" hidden>
    <input type="checkbox" name="tool" value="decidim"> …
    <button type="reset">Clear</button>
  </form>
  <p data-compare-status="TABLE-ID" aria-live="polite" data-few="…" data-some="… {count} …"
     data-full="… {count} …" hidden></p>
  <table id="TABLE-ID"> … <th data-tool="decidim"> … <td data-tool="decidim"> …

With two to data-max tools ticked, only their columns are shown, side by side; with fewer,
every column. Once data-max are ticked the other boxes are disabled. ?tools=a,b in the
address ticks those tools (a tool's page links here with its own), and each choice is
written back there so that the comparison can be shared. No inline handlers, no network.
*/
(function () {
  "use strict";

  var MIN = 2;

  function chosenFromAddress() {
    try {
      var value = new URLSearchParams(window.location.search).get("tools");
      return value ? value.split(",") : [];
    } catch (error) {
      return [];
    }
  }

  function remember(chosen) {
    try {
      var address = new URL(window.location.href);
      if (chosen.length) {
        address.searchParams.set("tools", chosen.join(","));
      } else {
        address.searchParams.delete("tools");
      }
      window.history.replaceState(null, "", address.toString());
    } catch (error) {
      /* an address that cannot be rewritten (file://) keeps working without it */
    }
  }

  function formatted(n) {
    try {
      return new Intl.NumberFormat(document.documentElement.lang || undefined).format(n);
    } catch (error) {
      return String(n);
    }
  }

  function announce(status, count, most) {
    if (!status) {
      return;
    }
    var key = count < MIN ? "data-few" : count >= most ? "data-full" : "data-some";
    status.textContent = (status.getAttribute(key) || "").replace("{count}", formatted(count));
  }

  function setUp(form) {
    var id = form.getAttribute("data-compare-for");
    var table = document.getElementById(id);
    if (!table) {
      return;
    }
    var most = parseInt(form.getAttribute("data-max"), 10) || 4;
    var boxes = Array.prototype.slice.call(form.querySelectorAll('input[type="checkbox"][name="tool"]'));
    var cells = table.querySelectorAll("[data-tool]");
    var status = document.querySelector('[data-compare-status="' + id + '"]');

    function update(write) {
      var chosen = boxes.filter(function (box) { return box.checked; })
        .map(function (box) { return box.value; });
      var narrow = chosen.length >= MIN;
      cells.forEach(function (cell) {
        cell.hidden = narrow && chosen.indexOf(cell.getAttribute("data-tool")) < 0;
      });
      boxes.forEach(function (box) {
        box.disabled = !box.checked && chosen.length >= most;
      });
      announce(status, chosen.length, most);
      if (write) {
        remember(chosen);
      }
    }

    var wanted = chosenFromAddress();
    boxes.forEach(function (box) {
      box.checked = wanted.indexOf(box.value) >= 0 && wanted.indexOf(box.value) < most;
    });
    form.addEventListener("change", function () { update(true); });
    form.addEventListener("reset", function () {
      window.setTimeout(function () { update(true); }, 0);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
    });
    form.hidden = false;
    if (status) {
      status.hidden = false;
    }
    update(false);
  }

  function start() {
    document.querySelectorAll("form.civicgen-compare[data-compare-for]").forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
