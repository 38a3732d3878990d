// The release timeline: one SVG, hosts down, time across. The markup is built as one string and
// set once; rows and marks carry only numeric indices (data-h on the row, data-e on the mark) into
// the timeline JSON, a mark is made focusable only when focus goes to it, and one set
// of delegated listeners on the container serves every mark (no listener per event).
'use strict';
window.OL = window.OL || {};

(function (OL) {
  const LABEL_W = 190;
  const ROW_H = 24;
  const AXIS_H = 30;
  const RIGHT_PAD = 14;
  const RANK = { error: 3, warning: 2, ok: 1, info: 0 };
  const RESOURCE = /^(oom\.|pressure\.|disk\.full$|inode\.exhausted$|fd\.exhausted$|spool\.shed$)/;
  const CONDITION = /^(pressure\.|disk\.full$|inode\.exhausted$|fd\.exhausted$)/;
  const SERVICE = /^(unit\.|container\.|health\.)/;
  const FAILURE_KINDS = new Set(['oom.kill', 'oom.invocation', 'unit.failed', 'container.failed',
    'container.oom', 'health.failed']);

  OL.eventKey = (agentId, epoch, seq) => `${agentId}\u0000${epoch}\u0000${seq}`;

  // error | warning | ok | info: what the mark's colour says.
  OL.severity = function (e) {
    const k = e.kind;
    if (FAILURE_KINDS.has(k)) return 'error';
    if (k === 'hook.exit') {
      if (e.signal !== undefined || (e.exit_code !== undefined && e.exit_code !== 0)) return 'error';
      return e.exit_code === 0 ? 'ok' : 'info';
    }
    if (k === 'deploy.finish') return e.outcome === 'failed' ? 'error' : e.outcome === 'ok' ? 'ok' : 'info';
    if (CONDITION.test(k)) return e.raised === false ? 'ok' : 'warning';
    if (k === 'spool.shed') return 'warning';
    if (k === 'health.recovered') return 'ok';
    return 'info';
  };

  // The mark's shape: deploy markers, hook runs, resources, the service's units and containers.
  OL.family = function (kind) {
    if (kind.startsWith('deploy.')) return 'deploy';
    if (kind === 'hook.output') return 'line';
    if (kind.startsWith('hook.')) return 'hook';
    if (RESOURCE.test(kind)) return 'resource';
    if (SERVICE.test(kind)) return 'service';
    return 'other';
  };

  function shape(family, x, y) {
    const f = (n) => n.toFixed(1);
    switch (family) {
      case 'deploy': return `M${f(x - 1.5)} ${y - 9}h3v18h-3z`;
      case 'line': return `M${f(x - 1.5)} ${y + 3}h3v3h-3z`;
      case 'hook': return `M${f(x - 5)} ${y}a5 5 0 1 0 10 0a5 5 0 1 0 -10 0z`;
      case 'resource': return `M${f(x)} ${y - 6}l6 6l-6 6l-6 -6z`;
      case 'service': return `M${f(x)} ${y - 6}l6 11h-12z`;
      default: return `M${f(x - 4)} ${y - 4}h8v8h-8z`;
    }
  }

  // A tick step (ms) that gives about one label per 130 px.
  function tickStep(spanMs, widthPx) {
    const steps = [100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5,
      216e5, 432e5, 864e5, 1728e5, 6048e5];
    const want = spanMs / Math.max(1, widthPx / 130);
    return steps.find((s) => s >= want) || steps[steps.length - 1];
  }

  // Marks are not focusable until focus goes to one (10,000 tabindex attributes cost time to parse).
  function focusOn(el, options) {
    if (!el.hasAttribute('tabindex') && el.classList.contains('mark')) el.setAttribute('tabindex', '-1');
    el.focus(options);
  }

  class Timeline {
    // container: the scrolling element the SVG goes in; detail: where a selected event is shown;
    // tooltip: a floating element for hover.
    constructor(container, detail, tooltip) {
      this.container = container;
      this.detail = detail;
      this.tooltip = tooltip;
      this.rows = [];
      this.refs = new Map();
      container.addEventListener('mouseover', (ev) => this.onHover(ev));
      container.addEventListener('mouseout', (ev) => this.onLeave(ev));
      container.addEventListener('click', (ev) => this.onClick(ev));
      container.addEventListener('keydown', (ev) => this.onKey(ev));
      container.addEventListener('focusin', (ev) => this.onHover(ev));
      container.addEventListener('focusout', (ev) => this.onLeave(ev));
    }

    // timeline: GET /api/v1/releases/{id}/timeline. evidence: a Set of eventKey()s always drawn.
    // Returns the number of marks drawn.
    render(timeline, evidence, selectedHost) {
      const hosts = (timeline.hosts || []).slice();
      const failedFirst = (h) => (h.state === 'failed' ? 0 : 1);
      hosts.sort((a, b) => failedFirst(a) - failedFirst(b) || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
      this.rows = hosts;
      this.stages = timeline.stages || [];
      this.refs.clear();

      let t0 = Infinity, t1 = -Infinity;
      const take = (ms) => { if (Number.isFinite(ms)) { t0 = Math.min(t0, ms); t1 = Math.max(t1, ms); } };
      for (const s of this.stages) { take(OL.timeMs(s.started)); take(OL.timeMs(s.updated)); }
      // The range is what happened; a grace period reaching beyond it adds at most a quarter of
      // the span (its bar then runs to the right edge), so minutes of activity are not squeezed
      // into a few pixels by a long grace period.
      let graceEnd = -Infinity;
      hosts.forEach((h, hi) => {
        for (const w of h.windows || []) {
          take(w.start_ns / 1e6);
          const finish = OL.timeMs(w.finish);
          take(Number.isFinite(finish) ? finish : w.end_ns / 1e6);
          graceEnd = Math.max(graceEnd, w.end_ns / 1e6);
        }
        (h.events || []).forEach((e, ei) => {
          this.refs.set(OL.eventKey(e.agent_id, e.epoch, e.seq), { h: hi, e: ei });
          if (!e.open_at_start) take(e.time_ns / 1e6);
        });
      });
      if (!Number.isFinite(t0)) { t0 = Date.now() - 60000; t1 = Date.now(); }
      if (t1 - t0 < 1000) { t0 -= 500; t1 += 500; }
      if (graceEnd > t1) t1 = Math.min(graceEnd, t1 + (t1 - t0) * 0.25);
      const pad = (t1 - t0) * 0.02;
      t0 -= pad; t1 += pad;
      this.t0 = t0; this.t1 = t1;

      const width = Math.max(640, this.container.clientWidth || 900);
      const plotW = width - LABEL_W - RIGHT_PAD;
      const x = (ms) => LABEL_W + ((Math.min(ms, t1) - t0) / (t1 - t0)) * plotW;
      const rowCount = hosts.length + 1;
      const height = AXIS_H + rowCount * ROW_H + 6;
      const out = [];
      out.push(`<svg class="tl" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="group" aria-label="timeline: ${hosts.length} hosts">`);
      out.push('<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect class="hatch-bg" width="6" height="6"/><line class="hatch-line" x1="0" y1="0" x2="0" y2="6"/></pattern></defs>');

      // Axis and grid.
      const step = tickStep(t1 - t0, plotW);
      out.push('<g class="axis" aria-hidden="true">');
      for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
        const px = x(t).toFixed(1);
        out.push(`<line class="grid" x1="${px}" x2="${px}" y1="${AXIS_H - 6}" y2="${height}"/>`);
        const label = step < 1000 ? `${OL.clock(t)}.${String(t % 1000).padStart(3, '0')}` : OL.clock(t);
        out.push(`<text class="tick" x="${px}" y="${AXIS_H - 10}">${OL.esc(label)}</text>`);
      }
      out.push('</g>');

      // The CI pipeline's stages.
      let y = AXIS_H;
      out.push(`<g class="row stages" transform="translate(0 ${y})">`);
      out.push(`<rect class="row-bg" x="0" y="0" width="${width}" height="${ROW_H}"/>`);
      out.push(`<text class="label" x="8" y="16">CI pipeline</text>`);
      for (const s of this.stages) {
        const a = OL.timeMs(s.started), b = OL.timeMs(s.updated);
        if (!Number.isFinite(a)) continue;
        const x0 = x(a), x1 = Math.max(x0 + 8, x(Number.isFinite(b) ? b : a));
        const status = /^[a-z_]+$/.test(s.status || '') ? s.status : 'unknown';
        const tip = `${s.name}: ${s.status}`;
        let bar = `<rect class="stage st-${status}" x="${x0.toFixed(1)}" y="4" width="${(x1 - x0).toFixed(1)}" height="${ROW_H - 8}" rx="3"><title>${OL.esc(tip)}</title></rect>`;
        if (x1 - x0 > 40) bar += `<text class="stage-label" x="${(x0 + 4).toFixed(1)}" y="16">${OL.esc(s.name)} ${status === 'failed' ? '✕' : status === 'ok' ? '✓' : '…'}</text>`;
        const url = OL.safeUrl(s.job_url);
        out.push(url ? `<a href="${OL.esc(url)}" target="_blank" rel="noopener noreferrer" class="stage-link">${bar}</a>` : bar);
      }
      if (!this.stages.length) out.push(`<text class="muted-text" x="${LABEL_W}" y="16">no stages reported</text>`);
      out.push('</g>');

      // One row per host.
      let drawn = 0;
      hosts.forEach((h, hi) => {
        y += ROW_H;
        const cy = ROW_H / 2;
        const state = /^[a-z_]+$/.test(h.state || '') ? h.state : 'unknown';
        const sel = h.host === selectedHost ? ' sel' : '';
        out.push(`<g class="row host st-${state}${sel}" data-h="${hi}" transform="translate(0 ${y})">`);
        out.push(`<rect class="row-bg" x="0" y="0" width="${width}" height="${ROW_H}"/>`);
        const label = h.host.length > 22 ? h.host.slice(0, 21) + '…' : h.host;
        const glyph = state === 'failed' ? '✕ ' : state === 'succeeded' ? '✓ ' : '';
        out.push(`<a class="host-link" href="${OL.esc(OL.hostPath(h.host))}" data-nav data-h="${hi}" aria-label="host ${OL.esc(h.host)}: ${OL.esc(state)}"><text class="label" x="8" y="16"><tspan class="state-glyph">${glyph}</tspan>${OL.esc(label)}<title>${OL.esc(h.host)} — ${OL.esc(state)}${h.reason ? ': ' + OL.esc(h.reason) : ''}</title></text></a>`);
        for (const w of h.windows || []) {
          const a = x(w.start_ns / 1e6);
          const finish = OL.timeMs(w.finish);
          const end = x(w.end_ns / 1e6);
          const mid = Number.isFinite(finish) ? Math.min(end, x(finish)) : end;
          const outcome = /^[a-z]+$/.test(w.outcome || '') ? w.outcome : 'unknown';
          out.push(`<rect class="win win-${outcome}${w.unfinished ? ' unfinished' : ''}" x="${a.toFixed(1)}" y="5" width="${Math.max(2, mid - a).toFixed(1)}" height="${ROW_H - 10}" rx="2"/>`);
          if (end - mid > 0.5) {
            const until = `grace period until ${OL.absolute(w.end_ns / 1e6)}${w.end_ns / 1e6 > t1 ? ' (beyond the right edge)' : ''}`;
            out.push(`<rect class="grace" x="${mid.toFixed(1)}" y="5" width="${(end - mid).toFixed(1)}" height="${ROW_H - 10}"><title>${OL.esc(until)}</title></rect>`);
          }
        }
        // At most one mark per severity per pixel column; evidence is always drawn.
        const used = new Map();
        (h.events || []).forEach((e, ei) => {
          const sev = OL.severity(e);
          const fam = OL.family(e.kind);
          const open = !!e.open_at_start;
          const px = open ? LABEL_W + 6 : x(e.time_ns / 1e6);
          const col = Math.round(px);
          const bit = 1 << RANK[sev];
          const isEvidence = evidence && evidence.has(OL.eventKey(e.agent_id, e.epoch, e.seq));
          const mask = used.get(col) || 0;
          if (!isEvidence && (mask & bit)) return;
          used.set(col, mask | bit);
          drawn++;
          out.push(`<path class="mark sev-${sev} fam-${fam}${open ? ' open-start' : ''}${isEvidence ? ' evidence' : ''}" d="${shape(fam, px, cy)}" data-e="${ei}"/>`);
        });
        out.push('</g>');
      });
      out.push('</svg>');
      this.container.innerHTML = out.join('');
      this.svg = this.container.firstChild;
      return drawn;
    }

    eventAt(el) {
      const h = this.rows[+el.closest('g.row').getAttribute('data-h')];
      return h && h.events ? { host: h, event: h.events[+el.getAttribute('data-e')] } : null;
    }

    onHover(ev) {
      const el = ev.target.closest && ev.target.closest('.mark');
      if (!el) return;
      const found = this.eventAt(el);
      if (!found) return;
      const e = found.event;
      this.tooltip.innerHTML = `<strong>${OL.esc(e.kind)}</strong> · ${OL.esc(found.host.host)}<br>` +
        `${OL.esc(OL.absolute(e.time_ns / 1e6))}${e.open_at_start ? ' · <em>open before deploy start</em>' : ''}<br>` +
        `<span class="tt-summary">${OL.esc(e.summary)}</span>`;
      const box = el.getBoundingClientRect();
      this.tooltip.hidden = false;
      const tw = this.tooltip.offsetWidth;
      const left = Math.min(window.innerWidth - tw - 8, Math.max(8, box.left + box.width / 2 - tw / 2));
      this.tooltip.style.left = `${left + window.scrollX}px`;
      this.tooltip.style.top = `${box.bottom + window.scrollY + 6}px`;
    }

    onLeave(ev) {
      if (ev.target.closest && ev.target.closest('.mark')) this.tooltip.hidden = true;
    }

    onClick(ev) {
      const el = ev.target.closest && ev.target.closest('.mark');
      if (!el) return;
      this.select(el);
    }

    // Keys: on a host row (its label) or a mark, Left/Right walk the row's marks, Up/Down the
    // rows, Enter or Space shows the mark's event, Escape clears it.
    onKey(ev) {
      const el = ev.target;
      const mark = el.closest && el.closest('.mark');
      const link = el.closest && el.closest('.host-link');
      if (!mark && !link) return;
      const hi = +(mark || link).closest('g.row').getAttribute('data-h');
      const row = this.svg.querySelector(`g.row[data-h="${hi}"]`);
      const marks = row ? Array.from(row.querySelectorAll('.mark')) : [];
      let target = null;
      if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
        const i = mark ? marks.indexOf(mark) : -1;
        const next = ev.key === 'ArrowRight' ? i + 1 : (i < 0 ? marks.length - 1 : i - 1);
        target = next >= 0 && next < marks.length ? marks[next] : link ? null : row.querySelector('.host-link');
      } else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
        const other = this.svg.querySelector(`.host-link[data-h="${hi + (ev.key === 'ArrowDown' ? 1 : -1)}"]`);
        target = other;
      } else if ((ev.key === 'Enter' || ev.key === ' ') && mark) {
        this.select(mark);
        ev.preventDefault();
        return;
      } else if (ev.key === 'Escape') {
        this.clearSelection();
        return;
      } else {
        return;
      }
      ev.preventDefault();
      if (target) focusOn(target);
    }

    clearSelection() {
      for (const m of this.svg ? this.svg.querySelectorAll('.mark.hl') : []) m.classList.remove('hl');
      this.detail.innerHTML = '';
      this.detail.hidden = true;
    }

    // Highlights the mark of the event with this key, scrolls its host row into view and shows
    // the event. False when the event is not on the timeline.
    highlight(key) {
      const at = this.refs.get(key);
      if (!at || !this.svg) return false;
      const el = this.svg.querySelector(`g.row[data-h="${at.h}"] .mark[data-e="${at.e}"]`);
      if (!el) return false;
      this.select(el);
      el.closest('g.row').querySelector('.row-bg').scrollIntoView({ block: 'center', inline: 'nearest' });
      focusOn(el, { preventScroll: true });
      this.tooltip.hidden = true;  // the detail panel shows the event; the tooltip would hide rows
      return true;
    }

    select(el) {
      this.clearSelection();
      el.classList.add('hl');
      // Drawn last so the ring is on top of its neighbours; moving it drops its focus, given back.
      const focused = document.activeElement === el;
      el.parentNode.appendChild(el);
      if (focused) el.focus({ preventScroll: true });
      const found = this.eventAt(el);
      if (!found) return;
      const e = found.event;
      const tail = Array.isArray(e.output_tail) && e.output_tail.length
        ? `<h4>Output tail</h4><pre class="tail">${OL.esc(e.output_tail.join('\n'))}</pre>` : '';
      const facts = [];
      if (e.exit_code !== undefined) facts.push(`exit code ${OL.esc(e.exit_code)}`);
      if (e.signal !== undefined) facts.push(`signal ${OL.esc(e.signal)}`);
      if (e.outcome !== undefined) facts.push(`outcome ${OL.esc(e.outcome)}`);
      if (e.open_at_start) facts.push('<strong>already open when the deploy started</strong>');
      if (e.link) facts.push(`linked as ${OL.esc(e.link)}`);
      this.detail.innerHTML =
        `<div class="detail-head"><span class="kind sev-${OL.severity(e)}">${OL.esc(e.kind)}</span> on ` +
        `${OL.navLink(OL.hostPath(found.host.host), found.host.host)} · ${OL.timeHtml(e.time)}` +
        '<button type="button" class="close" data-close aria-label="close the event">×</button></div>' +
        `<p class="summary">${OL.esc(e.summary)}</p>` +
        (facts.length ? `<p class="facts">${facts.join(' · ')}</p>` : '') + tail +
        `<p class="ref muted">agent ${OL.esc(e.agent_id)} · epoch ${OL.esc(e.epoch)} · seq ${OL.esc(e.seq)}</p>`;
      this.detail.hidden = false;
    }
  }
  OL.Timeline = Timeline;
})(window.OL);
