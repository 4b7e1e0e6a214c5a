// Glue between the vendored widget renderer and this book's offline pages (book/assets/README.md).
// Loaded after require.js and before the widget manager (embed-amd.js).
(function () {
  var src = document.currentScript.src;
  var vendor = src.slice(0, src.lastIndexOf("/") + 1) + "vendor/";
  // The widget manager finds its icon fonts next to its own module's address: point that address
  // at the vendored copy instead of a folder beside the page.
  require.config({ paths: { "@jupyter-widgets/html-manager/dist": vendor + "html-manager" } });
  // The widget manager typesets labels with MathJax 2's `MathJax.Hub.Queue`; the book runs MathJax 3,
  // which has no Hub. Give it one that forwards to MathJax 3 once MathJax has loaded (deferred scripts
  // run before DOMContentLoaded, and this listener is registered before the widget manager's).
  document.addEventListener("DOMContentLoaded", function () {
    if (window.MathJax && !window.MathJax.Hub) {
      window.MathJax.Hub = {
        Queue: function (job) {
          var element = Array.isArray(job) ? job[2] : undefined;
          if (MathJax.startup && MathJax.typesetPromise) {
            MathJax.startup.promise.then(function () { return MathJax.typesetPromise(element ? [element] : undefined); });
          }
        },
      };
    }
  });
})();
