// Loaded after require.js and before the ipywidgets html-manager (see nb_ipywidgets_js in
// _config.yml), so that pages with widgets render from this site alone, without a network.
// - anywidget: require.js loads its front-end module from _static/vendor/anywidget/index.js, which
//   book/book_extension.py copies into the site from the installed anywidget package.
// - html-manager: its bundle finds its icon fonts next to the URL that require.js gives its AMD
//   modules; mapping the module names into _static/vendor/html-manager/ makes that URL real.
// - MathJax: the widget controls typeset their labels with the MathJax 2 call
//   MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]); the book loads MathJax 3, which has no
//   Hub (the call would throw), so a small MathJax.Hub.Queue does the same with MathJax 3.
// - Console: the html-manager (1.0.x) compiles its bundled widget-state JSON schema with Ajv 8 on
//   default options, and Ajv's strict mode logs one warning about that schema ("strict mode: use
//   allowUnionTypes ...") on every page with widgets. It is about the upstream schema, not about this
//   book's widgets, so exactly that message is dropped; every other warning still reaches the console.
// - ipywidgets 8.1 sliders: the noUiSlider handle has role="slider" but no accessible name (the
//   description is a <label> not tied to it; axe: aria-input-field-name, serious). Each handle is
//   labelled by its slider's description as soon as the widget renders.
(function () {
  var warn = console.warn;
  console.warn = function (message) {
    if (typeof message === "string" && message.indexOf("strict mode: use allowUnionTypes") === 0) return;
    return warn.apply(console, arguments);
  };

  var here = document.currentScript.src;
  var vendor = function (path) { return new URL("vendor/" + path, here).href; };
  window.requirejs.config({
    paths: {
      anywidget: vendor("anywidget/index"),
      "@jupyter-widgets/html-manager": vendor("html-manager/html-manager"),
      "@jupyter-widgets/html-manager/dist": vendor("html-manager"),
    },
  });

  var labelled = 0;
  new MutationObserver(function () {
    document.querySelectorAll(".widget-slider .noUi-handle:not([aria-labelledby])").forEach(function (handle) {
      var label = handle.closest(".widget-slider").querySelector(".widget-label");
      if (!label) return;
      if (!label.id) label.id = "widget-slider-label-" + ++labelled;
      handle.setAttribute("aria-labelledby", label.id);
    });
  }).observe(document.documentElement, { childList: true, subtree: true });

  // Deferred scripts (MathJax) have run when DOMContentLoaded fires; widgets render on "load".
  document.addEventListener("DOMContentLoaded", function () {
    var mathjax = window.MathJax;
    if (mathjax && mathjax.startup && !mathjax.Hub) {
      mathjax.Hub = {
        Queue: function (job) {
          var element = job[2];
          // Widget labels write LaTeX between dollars, as notebooks do; the book's MathJax reads
          // only \( \) and \[ \] (dollars are MyST's job), so convert this element's text.
          if (element.childElementCount === 0) {
            element.textContent = element.textContent
              .replace(/\$\$([^$]+)\$\$/g, "\\[$1\\]")
              .replace(/\$([^$]+)\$/g, "\\($1\\)");
          }
          mathjax.startup.promise = mathjax.startup.promise.then(function () {
            return mathjax.typesetPromise([element]);
          });
        },
      };
    }
  });
})();
