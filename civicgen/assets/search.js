// The search page: Pagefind's own interface, loaded from the site (no other host).
// The bundle sits in the language root's pagefind/ folder; results link under that root,
// so the portal works whatever folder it is published in. ?q=word searches at once.
(function () {
  "use strict";
  var box = document.getElementById("civicgen-search");
  if (!box || typeof window.PagefindUI !== "function") {
    return;
  }
  var bundle = new URL(box.getAttribute("data-bundle") || "../pagefind/", document.baseURI);
  var ui = new window.PagefindUI({
    element: "#civicgen-search",
    bundlePath: bundle.pathname,
    baseUrl: new URL("../", bundle).pathname,
    showSubResults: true,
    showImages: false,
    resetStyles: false,
    autofocus: true
  });
  var query = new URLSearchParams(window.location.search).get("q");
  if (query) {
    ui.triggerSearch(query);
  }
  var fallback = document.getElementById("civicgen-search-fallback");
  if (fallback) {
    fallback.hidden = true;
  }
})();
