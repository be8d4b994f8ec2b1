// awsaudit HTML report: filters, sort, search, copy. Everything it shows is already in the
// page; the script only hides, orders and copies. No request is made (and the page's
// content security policy forbids any).
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var form = document.getElementById("filters");
  var list = document.getElementById("list");
  var more = document.getElementById("more");
  var shown = document.getElementById("shown");
  if (!form || !list) return;
  form.hidden = false;
  var cards = Array.prototype.slice.call(list.children);
  // Cards drawn at once: enough to read, few enough that a 5,000-finding report stays fast.
  var PAGE = 200;
  var limit = PAGE;
  var FIELDS = ["kind", "sev", "service", "check", "account", "region", "owner", "change"];

  function value(name) {
    var el = form.elements[name];
    return el ? el.value : "";
  }

  // What the resource search matches: the finding's resource and its evidence's, lower
  // case; read from the card once, when first searched.
  function resources(c) {
    if (c._res === undefined) {
      var parts = [c.querySelector(".res").textContent];
      c.querySelectorAll("figcaption li > code").forEach(function (e) { parts.push(e.textContent); });
      c._res = parts.join(" ").toLowerCase();
    }
    return c._res;
  }

  function apply() {
    var want = {};
    FIELDS.forEach(function (f) { want[f] = value(f); });
    var q = value("q").trim().toLowerCase();
    var matched = 0, visible = 0;
    for (var i = 0; i < cards.length; i++) {
      var c = cards[i], d = c.dataset, ok = true;
      for (var k = 0; k < FIELDS.length && ok; k++) {
        var f = FIELDS[k];
        if (want[f] && d[f] !== want[f]) ok = false;
      }
      if (ok && q && resources(c).indexOf(q) < 0) ok = false;
      if (ok) matched++;
      var show = ok && matched <= limit;
      if (show) visible++;
      if (c.hidden === show) c.hidden = !show;
    }
    more.hidden = matched <= limit;
    more.textContent = "show " + Math.min(PAGE, matched - visible) + " more of " + (matched - visible);
    shown.textContent = "showing " + visible + " of " + matched + " matching";
    document.querySelectorAll("button.total[data-filter]").forEach(function (b) {
      b.classList.toggle("active", want.sev === b.dataset.value);
    });
  }

  var ORDER = {
    sev: function (a, b) { return b.dataset.rank - a.dataset.rank; },
    check: function (a, b) { return cmp(a.dataset.check, b.dataset.check); },
    account: function (a, b) { return cmp(a.dataset.account + a.dataset.region, b.dataset.account + b.dataset.region); },
    region: function (a, b) { return cmp(a.dataset.region + a.dataset.account, b.dataset.region + b.dataset.account); },
    owner: function (a, b) { return cmp(a.dataset.owner, b.dataset.owner); },
    resource: function (a, b) { return cmp(resources(a), resources(b)); },
    cost: function (a, b) { return b.dataset.cost - a.dataset.cost; }
  };
  function cmp(a, b) { return a < b ? -1 : a > b ? 1 : 0; }

  function sort() {
    var by = ORDER[value("sort")] || ORDER.sev;
    // Stable: ties keep the report's order (worst first, then check, account, resource).
    var indexed = cards.map(function (c, i) { return [c, i]; });
    indexed.sort(function (x, y) { return by(x[0], y[0]) || x[1] - y[1]; });
    cards = indexed.map(function (x) { return x[0]; });
    var frag = document.createDocumentFragment();
    cards.forEach(function (c) { frag.appendChild(c); });
    list.appendChild(frag);
  }
  var original = cards.slice();

  form.addEventListener("input", function (e) {
    limit = PAGE;
    if (e.target.name === "sort") {
      if (e.target.value === "sev") { cards = original.slice(); var frag = document.createDocumentFragment(); cards.forEach(function (c) { frag.appendChild(c); }); list.appendChild(frag); }
      else sort();
    }
    apply();
  });
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  form.addEventListener("reset", function () { setTimeout(function () { limit = PAGE; cards = original.slice(); sort(); apply(); }, 0); });
  more.addEventListener("click", function () { limit += PAGE; apply(); });

  function set(name, v) {
    var el = form.elements[name];
    if (!el) return;
    // A value the select does not offer would silently match nothing.
    var known = Array.prototype.some.call(el.options || [], function (o) { return o.value === v; });
    el.value = known || el.tagName !== "SELECT" ? v : "";
  }
  document.querySelectorAll("button.total[data-filter]").forEach(function (b) {
    b.addEventListener("click", function () {
      set("sev", form.elements.sev.value === b.dataset.value ? "" : b.dataset.value);
      limit = PAGE; apply();
      form.scrollIntoView({ behavior: "smooth" });
    });
  });
  document.querySelectorAll("td[data-service]").forEach(function (td) {
    td.addEventListener("click", function () {
      set("kind", "open"); set("sev", ""); set("check", ""); set("owner", ""); set("change", ""); set("q", "");
      set("account", td.dataset.account); set("region", td.dataset.region); set("service", td.dataset.service);
      limit = PAGE; apply();
      form.scrollIntoView({ behavior: "smooth" });
    });
  });

  list.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button.copy");
    if (!b) return;
    var text = b.parentNode.querySelector("pre").innerText;
    function done(ok) {
      b.textContent = ok ? "copied" : "select and copy";
      setTimeout(function () { b.textContent = "copy"; }, 1500);
    }
    function fallback() {
      var r = document.createRange();
      r.selectNodeContents(b.parentNode.querySelector("pre"));
      var s = window.getSelection();
      s.removeAllRanges(); s.addRange(r);
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
      done(ok);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
    } else fallback();
  });

  // A link to one finding (#f-<fingerprint>) shows it whatever the filters.
  function reveal() {
    var id = location.hash.slice(1);
    var el = id && document.getElementById(id);
    if (el && el.classList.contains("finding")) { el.hidden = false; el.scrollIntoView(); }
  }
  apply();
  reveal();
  window.addEventListener("hashchange", reveal);
})();
