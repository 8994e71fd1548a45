// gongwen: the only script of the app (CSP: script-src 'self'). Everything works without it; it adds
// progress updates for running jobs, auto-submitting year selectors and confirmations.
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  document.querySelectorAll("[data-confirm]").forEach(function (el) {
    el.addEventListener("click", function (ev) {
      if (!window.confirm(el.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });
  document.querySelectorAll("[data-job]").forEach(function (box) {
    var url = box.getAttribute("data-job");
    var bar = box.querySelector("progress"), status = box.querySelector(".status"), what = box.querySelector(".what");
    function poll() {
      fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (r) { return r.json(); })
        .then(function (j) {
          bar.value = j.percent;
          status.textContent = j.status;
          what.textContent = j.what + (j.total ? "（" + j.done + "/" + j.total + "）" : "");
          if (j.active) { setTimeout(poll, 1000); } else { window.location.reload(); }
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    setTimeout(poll, 800);
  });
})();
