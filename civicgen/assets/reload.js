// civicgen serve: reload this page once the portal has been built again.
// Asks the preview server every second for its build number (same origin, so the page's
// content security policy allows it); the published site never holds this script.
(function () {
  "use strict";
  var seen = null;
  function look() {
    fetch("/.civicgen/build", { cache: "no-store" })
      .then(function (answer) { return answer.ok ? answer.text() : seen; })
      .then(function (build) {
        if (seen === null) {
          seen = build;
        } else if (build !== seen) {
          window.location.reload();
        }
      })
      .catch(function () { /* the server is restarting: look again */ })
      .then(function () { window.setTimeout(look, 1000); });
  }
  look();
})();
