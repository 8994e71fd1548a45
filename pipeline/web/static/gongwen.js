// gongwen: the only script of the app (CSP: script-src 'self'). Everything works without it; it adds
// progress updates for running jobs, auto-submitting year selectors, confirmations, and the enlarged
// page view (without it, a page thumbnail is a link to the page image itself).
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
  var zooms = Array.prototype.slice.call(document.querySelectorAll("a[data-zoom]"));
  if (zooms.length) {
    var box = document.createElement("div"), current = 0, opener = null;
    box.className = "lightbox";
    box.hidden = true;
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-label", "页面大图");
    box.innerHTML = '<figure><img alt=""><figcaption></figcaption></figure>' +
      '<button type="button" class="lb-prev" aria-label="上一页">‹</button>' +
      '<button type="button" class="lb-next" aria-label="下一页">›</button>' +
      '<button type="button" class="lb-close" aria-label="关闭">×</button>';
    document.body.appendChild(box);
    var img = box.querySelector("img"), caption = box.querySelector("figcaption");
    var prev = box.querySelector(".lb-prev"), next = box.querySelector(".lb-next");
    var show = function (i) {
      current = i;
      img.src = zooms[i].href;
      img.alt = caption.textContent = zooms[i].getAttribute("data-caption") || "";
      prev.disabled = i === 0;
      next.disabled = i === zooms.length - 1;
      box.querySelector("figure").scrollTop = 0;
    };
    var close = function () {
      box.hidden = true;
      document.body.classList.remove("noscroll");
      if (opener) { opener.focus(); }
    };
    zooms.forEach(function (a, i) {
      a.addEventListener("click", function (ev) {
        if (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) { return; }   // a new tab: the image
        ev.preventDefault();
        opener = a;
        show(i);
        box.hidden = false;
        document.body.classList.add("noscroll");
        box.querySelector(".lb-close").focus();
      });
    });
    prev.addEventListener("click", function () { if (current > 0) { show(current - 1); } });
    next.addEventListener("click", function () { if (current < zooms.length - 1) { show(current + 1); } });
    box.querySelector(".lb-close").addEventListener("click", close);
    box.addEventListener("click", function (ev) { if (ev.target === box) { close(); } });
    document.addEventListener("keydown", function (ev) {
      if (box.hidden) { return; }
      if (ev.key === "Escape") { close(); }
      else if (ev.key === "ArrowLeft" && current > 0) { show(current - 1); }
      else if (ev.key === "ArrowRight" && current < zooms.length - 1) { show(current + 1); }
    });
  }
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
