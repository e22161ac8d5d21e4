// Copy buttons of the console: each <button data-copy="ID"> copies the
// text of the element ID. Without JavaScript the buttons stay hidden and
// the values can be selected by hand.
(function () {
  "use strict";
  function fallback(el) {
    var r = document.createRange();
    r.selectNodeContents(el);
    var s = window.getSelection();
    s.removeAllRanges();
    s.addRange(r);
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var el = document.getElementById(b.getAttribute("data-copy"));
      if (!el) { return; }
      var text = el.textContent;
      var done = function () {
        var was = b.textContent;
        b.textContent = "Copied";
        setTimeout(function () { b.textContent = was; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { if (fallback(el)) { done(); } });
      } else if (fallback(el)) {
        done();
      }
    });
  });
})();
