// Tidings console: light progressive enhancement. Every page works without this script; with it,
// ID copy buttons appear, CSV uploads show their progress, and send pages follow the send live
// through Server-Sent Events.
(function () {
  'use strict';

  function copyFallback(text) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.setAttribute('aria-hidden', 'true');
    area.style.position = 'fixed';
    area.style.top = '0';
    area.style.left = '0';
    area.style.width = '1px';
    area.style.height = '1px';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    try { document.execCommand('copy'); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(area);
  }

  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener('click', function () {
      var text = button.getAttribute('data-copy');
      var done = function () {
        button.textContent = 'Copied';
        window.setTimeout(function () { button.textContent = label; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { copyFallback(text); done(); });
      } else {
        copyFallback(text);
        done();
      }
    });
  });

  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.confirm(form.getAttribute('data-confirm'))) { event.preventDefault(); }
    });
  });

  // CSV upload with progress: the server imports while the file streams in, so upload progress
  // is import progress.
  document.querySelectorAll('form[data-upload]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.FormData || !window.XMLHttpRequest) { return; }
      event.preventDefault();
      var wrap = form.querySelector('.upload-progress');
      var bar = form.querySelector('progress');
      var out = form.querySelector('output');
      var button = form.querySelector('button[type="submit"]');
      if (wrap) { wrap.hidden = false; }
      if (bar) { bar.removeAttribute('value'); }
      if (button) { button.disabled = true; }
      var xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      xhr.upload.addEventListener('progress', function (e) {
        if (!e.lengthComputable) { return; }
        if (bar) { bar.max = e.total; bar.value = e.loaded; }
        if (out) { out.textContent = Math.round(100 * e.loaded / e.total) + '% sent and imported'; }
      });
      xhr.addEventListener('load', function () {
        if (xhr.status === 200 && xhr.responseURL && xhr.responseURL !== form.action) {
          window.location.assign(xhr.responseURL);
          return;
        }
        var doc = new DOMParser().parseFromString(xhr.responseText, 'text/html');
        var box = doc.querySelector('.errors');
        if (out) { out.textContent = box ? box.textContent.trim() : 'The upload failed (' + xhr.status + ').'; }
        if (button) { button.disabled = false; }
      });
      xhr.addEventListener('error', function () {
        if (out) { out.textContent = 'The upload failed: the connection was lost.'; }
        if (button) { button.disabled = false; }
      });
      xhr.send(new FormData(form));
    });
  });

  // Live send progress.
  var live = document.querySelector('[data-events]');
  if (!live || !window.EventSource) { return; }
  var liveNote = document.querySelector('[data-live-note]');
  var refreshing = false;
  var lastTracking = null;

  function setField(name, value) {
    document.querySelectorAll('[data-field="' + name + '"]').forEach(function (el) {
      el.textContent = value;
    });
  }

  function refreshTracking(key) {
    var table = document.getElementById('tracking');
    if (!table || refreshing || key === lastTracking) { return; }
    refreshing = true;
    lastTracking = key;
    fetch(window.location.href, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        refreshing = false;
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('tracking');
        var current = document.getElementById('tracking');
        if (fresh && current) { current.replaceWith(document.importNode(fresh, true)); }
      }, function () { refreshing = false; });
  }

  var source = new EventSource(live.getAttribute('data-events'));
  source.addEventListener('progress', function (event) {
    var d;
    try { d = JSON.parse(event.data); } catch (e) { return; }
    setField('status', d.status);
    document.querySelectorAll('[data-field="status"]').forEach(function (el) {
      el.className = 'state state-' + d.status;
    });
    setField('count', String(d.count));
    Object.keys(d.counts || {}).forEach(function (k) { setField('count-' + k, String(d.counts[k])); });
    setField('scheduledFor', d.scheduledFor || '—');
    setField('completeDate', d.completeDate || '—');
    setField('deferred-note', d.deferredNote || '');
    setField('errors', (d.errors || []).join(' '));
    document.querySelectorAll('[data-while-open]').forEach(function (el) { el.hidden = !!d.final; });
    if (liveNote) { liveNote.textContent = d.final ? 'Live: the send is ' + d.status + '.' : 'Live: updating as the send progresses.'; }
    refreshTracking(JSON.stringify(d.counts) + d.status);
    // The server ends the stream once nothing can change; do not reconnect.
    if (d.settled) { source.close(); }
  });
  source.addEventListener('expired', function () {
    source.close();
    if (liveNote) { liveNote.textContent = 'Your session has expired: sign in again to keep following this send.'; }
  });
})();
