// CloudButton dashboard: confirmations, live counts, and live instance
// pages. Plain JavaScript, no build step; the pages work without it
// (actions then confirm on a page of their own).
(function () {
  'use strict';
  var interval = parseInt(document.body.dataset.interval, 10) || 2000;

  function getJSON(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : { gone: r.status === 404 }; });
  }

  // Every action form asks first; confirm=yes tells the server it did.
  document.addEventListener('submit', function (ev) {
    var f = ev.target;
    if (!f.dataset || !f.dataset.confirm) return;
    if (!window.confirm(f.dataset.confirm)) { ev.preventDefault(); return; }
    var c = f.querySelector('input[name=confirm]');
    if (!c) {
      c = document.createElement('input');
      c.type = 'hidden';
      c.name = 'confirm';
      f.appendChild(c);
    }
    c.value = 'yes';
  });

  // The list: per-status counts, polled.
  var counts = document.getElementById('counts');
  if (counts && counts.dataset.countsUrl) {
    var tickCounts = function () {
      getJSON(counts.dataset.countsUrl).then(function (j) {
        if (!j || !j.counts) return;
        counts.querySelectorAll('[data-status]').forEach(function (chip) {
          var c = j.counts[chip.dataset.status];
          if (c) chip.querySelector('.count').textContent = c.count.toLocaleString('en-US') + (c.capped ? '+' : '');
        });
      }).catch(function () {}).then(function () { setTimeout(tickCounts, interval); });
    };
    setTimeout(tickCounts, interval);
  }

  // An instance page: poll live.json while the instance is live; refresh
  // the live parts of the page when its version changes; stop once ended.
  var inst = document.getElementById('instance');
  if (!inst) return;

  function setButtons(status) {
    inst.querySelectorAll('form[data-when]').forEach(function (f) {
      var on = f.dataset.when.split(' ').indexOf(status) >= 0;
      f.querySelectorAll('button').forEach(function (b) { b.disabled = !on; });
    });
  }

  // A large instance's history loads on its own, into the elements that
  // name it (data-lazy).
  function loadLazy() {
    var els = document.querySelectorAll('[data-lazy]');
    if (!els.length) return Promise.resolve();
    return fetch(els[0].dataset.lazy, { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) throw new Error('history: ' + r.status);
      return r.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, 'text/html');
      els.forEach(function (el) {
        var next = doc.getElementById(el.id);
        if (next) el.replaceWith(document.importNode(next, true));
      });
    });
  }

  function refresh() {
    return fetch(location.href, { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) throw new Error('refresh: ' + r.status);
      return r.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, 'text/html');
      var fresh = doc.getElementById('instance');
      if (!fresh) return;
      document.querySelectorAll('[data-live-part]').forEach(function (el) {
        var next = doc.getElementById(el.id);
        if (next) el.replaceWith(document.importNode(next, true));
      });
      inst.dataset.version = fresh.dataset.version;
      inst.dataset.liveUrl = fresh.dataset.liveUrl;
      inst.dataset.status = fresh.dataset.status;
      inst.dataset.terminal = fresh.dataset.terminal;
      setButtons(fresh.dataset.status);
      startGrowing();
      return loadLazy();
    });
  }

  // A page that is slow to render (a large fan-out) is refreshed less
  // often: the next poll waits at least four times the last refresh.
  var delay = interval;
  function poll() {
    getJSON(inst.dataset.liveUrl).then(function (j) {
      if (j.gone) return false; // purged
      setButtons(j.status);
      if (j.version !== inst.dataset.version) {
        var t = performance.now();
        return refresh().then(function () {
          delay = Math.max(interval, 4 * (performance.now() - t));
          return !j.terminal;
        });
      }
      return !j.terminal;
    }).catch(function () { return true; }).then(function (again) {
      if (again) setTimeout(poll, delay);
    });
  }

  // Live bars grow between refreshes, on the server's clock.
  var growTimer = null;
  function startGrowing() {
    if (growTimer) { clearInterval(growTimer); growTimer = null; }
    var svg = document.getElementById('timeline');
    if (!svg) return;
    var bars = svg.querySelectorAll('rect.bar[data-begin]');
    if (!bars.length) return;
    var t0 = +svg.dataset.t0, t1 = +svg.dataset.t1, x0 = +svg.dataset.x0, x1 = +svg.dataset.x1;
    var now0 = +svg.dataset.now, loaded = performance.now();
    growTimer = setInterval(function () {
      var now = now0 + (performance.now() - loaded);
      var xNow = Math.min(x1, x0 + (now - t0) / (t1 - t0) * (x1 - x0));
      bars.forEach(function (b) {
        var x = +b.getAttribute('x');
        b.setAttribute('width', Math.max(0.8, xNow - x).toFixed(1));
      });
    }, 250);
  }

  setButtons(inst.dataset.status);
  startGrowing();
  loadLazy().catch(function () {});
  if (inst.dataset.terminal !== 'true') setTimeout(poll, interval);
})();
