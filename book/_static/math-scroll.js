// Wide display equations reachable by keyboard (issue 17).
// The book loads MathJax without its context menu (see mathjax3_config in _config.yml). The menu used
// to give every equation tabindex="0"; without it no equation takes the focus, yet a display equation
// wider than the column scrolls sideways in its own box (the theme sets overflow-x: auto), and a
// region that scrolls must be reachable by keyboard (WCAG 2.1.1; axe: scrollable-region-focusable).
// So each display equation that is wider than its box, after typesetting and after each resize,
// becomes focusable, and only those: narrow equations add no stops to the Tab order.
(function () {
  function markWide() {
    document.querySelectorAll('mjx-container[display="true"]').forEach(function (box) {
      if (box.scrollWidth > box.clientWidth) box.setAttribute("tabindex", "0");
      else box.removeAttribute("tabindex");
    });
  }
  window.addEventListener("load", function () {
    var mathjax = window.MathJax;
    if (!mathjax || !mathjax.startup || !mathjax.startup.promise) return;
    mathjax.startup.promise.then(markWide);
    window.addEventListener("resize", markWide);
  });
})();
