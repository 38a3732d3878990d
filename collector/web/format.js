// Escaping, links and times. Every string from the API goes through esc() before it becomes
// markup: release names, summaries and hook output are written by others and may hold markup.
'use strict';
window.OL = window.OL || {};

(function (OL) {
  const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

  // Text for element content and quoted attribute values.
  OL.esc = function (value) {
    if (value === null || value === undefined) return '';
    return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
  };

  // The URL when it is absolute http(s), else null: only such URLs become links.
  OL.safeUrl = function (value) {
    if (typeof value !== 'string' || !/^https?:\/\//i.test(value)) return null;
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch (e) {
      return null;
    }
  };

  // An external link (new tab, no referrer), or the escaped text when the URL is not http(s).
  OL.extLink = function (url, label) {
    const safe = OL.safeUrl(url);
    const text = OL.esc(label || url);
    if (!safe) return text;
    return `<a href="${OL.esc(safe)}" target="_blank" rel="noopener noreferrer">${text}</a>`;
  };

  // A path inside the UI; the router follows links marked data-nav.
  OL.navLink = function (path, label, cls) {
    return `<a href="${OL.esc(path)}" data-nav${cls ? ` class="${cls}"` : ''}>${OL.esc(label)}</a>`;
  };

  OL.releasePath = (id, host) =>
    '/releases/' + encodeURIComponent(id) + (host ? '?host=' + encodeURIComponent(host) : '');
  OL.hostPath = (host) => '/hosts/' + encodeURIComponent(host);

  // Milliseconds since the epoch from an RFC 3339 string or *_ns number; NaN when neither.
  OL.timeMs = function (value) {
    if (typeof value === 'number') return value / 1e6;
    if (typeof value === 'string') return Date.parse(value);
    return NaN;
  };

  const absolute = new Intl.DateTimeFormat(undefined, {
    year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  // 24-hour: timeline ticks may carry milliseconds after the seconds.
  const clock = new Intl.DateTimeFormat(undefined, {
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  });

  OL.absolute = (ms) => absolute.format(new Date(ms));
  OL.clock = (ms) => clock.format(new Date(ms));
  OL.utc = (ms) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

  OL.relative = function (ms, now) {
    const s = Math.round(((now || Date.now()) - ms) / 1000);
    const abs = Math.abs(s);
    const say = (n, unit) => `${n} ${unit}${n === 1 ? '' : 's'}`;
    let text;
    if (abs < 45) text = say(abs, 'second');
    else if (abs < 45 * 60) text = say(Math.round(abs / 60), 'minute');
    else if (abs < 36 * 3600) text = say(Math.round(abs / 3600), 'hour');
    else text = say(Math.round(abs / 86400), 'day');
    return s >= 0 ? text + ' ago' : 'in ' + text;
  };

  // "<time>": relative and absolute in the viewer's zone, UTC in the tooltip.
  OL.timeHtml = function (value, opts) {
    const ms = OL.timeMs(value);
    if (!Number.isFinite(ms)) return '<span class="muted">—</span>';
    const iso = new Date(ms).toISOString();
    const text = opts && opts.short ? OL.absolute(ms) : `${OL.relative(ms)} · ${OL.absolute(ms)}`;
    return `<time datetime="${iso}" title="${OL.esc(OL.utc(ms))}">${OL.esc(text)}</time>`;
  };

  // "1.2 s", "3 min 4 s": a duration for humans.
  OL.duration = function (ms) {
    if (!Number.isFinite(ms)) return '';
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
    const m = Math.floor(ms / 60000);
    if (m < 60) return `${m} min ${Math.round((ms % 60000) / 1000)} s`;
    return `${Math.floor(m / 60)} h ${m % 60} min`;
  };

  const STATUS_TEXT = {
    failed: 'failed', partially_failed: 'partially failed', pipeline_failed: 'pipeline failed',
    succeeded: 'succeeded', in_progress: 'in progress', pending: 'pending', ok: 'ok',
    started: 'started', context: 'context only',
  };
  const STATUS_ICON = {
    failed: '✕', partially_failed: '◐', pipeline_failed: '✕', succeeded: '✓', ok: '✓',
    in_progress: '…', started: '…', pending: '○',
  };

  // A status as colour AND text (and a symbol), never colour alone.
  OL.statusBadge = function (status) {
    const key = /^[a-z_]+$/.test(status || '') ? status : 'unknown';
    const text = STATUS_TEXT[key] || String(status || 'unknown');
    return `<span class="badge st-${key}"><span aria-hidden="true">${STATUS_ICON[key] || '?'}</span> ${OL.esc(text)}</span>`;
  };
})(window.OL);
