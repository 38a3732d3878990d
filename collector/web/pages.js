// The three pages. Each render function fills `main` from the API and returns when the page is in
// the DOM; AuthError and other failures propagate to the router (app.js).
'use strict';
window.OL = window.OL || {};

(function (OL) {
  const esc = OL.esc;

  function releaseWhen(r) {
    return r.registered_at || (typeof r.created_ns === 'number' ? r.created_ns : null);
  }

  function options(values, selected, allLabel) {
    const sorted = Array.from(new Set(values.filter((v) => v))).sort();
    return `<option value="">${esc(allLabel)}</option>` + sorted.map((v) =>
      `<option value="${esc(v)}"${v === selected ? ' selected' : ''}>${esc(v)}</option>`).join('');
  }

  // Releases, newest first (the API's order), filtered by service and environment from the URL.
  OL.releasesPage = async function (main, query) {
    const data = await OL.api('/api/v1/releases', { limit: 1000 });
    const all = data.releases || [];
    const service = query.get('service') || '';
    const environment = query.get('environment') || '';
    const shown = all.filter((r) => (!service || r.service === service) &&
      (!environment || r.environment === environment));
    const rows = shown.map((r) => {
      const failed = r.hosts_failed || 0;
      return `<tr class="rel st-${esc(r.status)}">` +
        `<td>${OL.statusBadge(r.status)}</td>` +
        `<td>${OL.navLink(OL.releasePath(r.id), r.id, 'rel-link')}</td>` +
        `<td>${esc(r.service)}</td><td>${esc(r.version)}</td><td>${esc(r.environment)}</td>` +
        `<td class="num${failed ? ' bad' : ''}">${failed} / ${r.hosts_total || 0}</td>` +
        `<td>${OL.timeHtml(releaseWhen(r))}</td></tr>`;
    }).join('');
    main.innerHTML =
      '<h1>Releases</h1>' +
      '<form class="filters" id="filters" role="search" aria-label="filter releases">' +
      `<label>Service <select name="service" id="f-service">${options(all.map((r) => r.service), service, 'all services')}</select></label>` +
      `<label>Environment <select name="environment" id="f-environment">${options(all.map((r) => r.environment), environment, 'all environments')}</select></label>` +
      `<span class="count" aria-live="polite">${shown.length} of ${data.total === undefined ? all.length : data.total} releases</span>` +
      '</form>' +
      (shown.length
        ? '<table class="releases"><thead><tr><th scope="col">Status</th><th scope="col">Release</th>' +
          '<th scope="col">Service</th><th scope="col">Version</th><th scope="col">Environment</th>' +
          '<th scope="col">Hosts failed</th><th scope="col">When</th></tr></thead>' +
          `<tbody>${rows}</tbody></table>`
        : '<p class="empty">No releases match. CI registers them with <code>octolaunch release create</code>.</p>');
    const form = main.querySelector('#filters');
    form.addEventListener('change', () => {
      const q = new URLSearchParams();
      for (const name of ['service', 'environment']) {
        const v = form.elements[name].value;
        if (v) q.set(name, v);
      }
      const s = q.toString();
      OL.navigate('/' + (s ? '?' + s : ''), { replace: true, focus: '#f-' + document.activeElement.name });
    });
    document.title = 'Releases · OctoLaunch';
  };

  function causeHtml(releaseId, c, i) {
    const reasons = (c.reasons || []).map((r) => `<li>${esc(r)}</li>`).join('');
    const evidence = (c.evidence || []).map((e, j) => {
      const hasRef = e.agent_id !== undefined && e.seq !== undefined;
      const label = [e.host, e.kind, OL.clock(OL.timeMs(e.time))].filter((s) => s).map(esc).join(' · ');
      const tail = Array.isArray(e.output_tail) && e.output_tail.length
        ? `<details><summary>output tail (${e.output_tail.length} lines)</summary><pre class="tail">${esc(e.output_tail.join('\n'))}</pre></details>` : '';
      return '<li class="evidence-item">' +
        (hasRef ? `<button type="button" class="ev" data-c="${i}" data-v="${j}" title="show on the timeline">${label}</button>`
                : `<span class="ev-plain">${label}</span>`) +
        `${e.role ? ` <span class="role">${esc(e.role)}</span>` : ''}` +
        `<div class="ev-summary">${esc(e.summary)}</div>${e.url ? `<div>${OL.extLink(e.url)}</div>` : ''}${tail}</li>`;
    }).join('');
    const open = (c.open_first || []).map((o, j) => {
      if (o.kind === 'ci_job') return `<li>CI job: ${OL.extLink(o.url, o.label || o.url)}</li>`;
      if (o.kind === 'event' && o.agent_id !== undefined) {
        return `<li><button type="button" class="ev" data-c="${i}" data-o="${j}">${esc(o.label || o.summary)}</button> <span class="muted">${esc(o.host)}</span></li>`;
      }
      return `<li>${esc(o.label)}</li>`;
    }).join('');
    return `<li class="cause" id="cause-${i + 1}">` +
      `<h3><span class="rank">#${i + 1}</span> ${esc(c.title)}</h3>` +
      `<p class="cause-meta"><span class="category">${esc(c.category)}</span> · score ${esc(c.score)} · ` +
      `${esc(c.hosts_affected)} of ${esc(c.hosts_total)} hosts${c.context ? ' · <em>context</em>' : ''}` +
      `${(c.hosts || []).length ? ': ' + c.hosts.slice(0, 8).map((h) => OL.navLink(OL.releasePath(releaseId, h), h)).join(', ') + (c.hosts.length > 8 ? ` and ${c.hosts.length - 8} more` : '') : ''}` +
      `${c.first_seen ? ' · first seen ' + OL.timeHtml(c.first_seen, { short: true }) : ''}</p>` +
      (reasons ? `<ul class="reasons">${reasons}</ul>` : '') +
      (open ? `<h4>Open first</h4><ul class="open-first">${open}</ul>` : '') +
      (evidence ? `<h4>Evidence</h4><ul class="evidence">${evidence}</ul>` : '') + '</li>';
  }

  // A release: header, the timeline with the pipeline row, and the ranked causes beside it.
  OL.releasePage = async function (main, id, query) {
    const base = '/api/v1/releases/' + encodeURIComponent(id);
    const [release, timeline, causes] = await Promise.all([
      OL.api(base), OL.api(base + '/timeline'), OL.api(base + '/causes')]);
    const selectedHost = query.get('host') || '';
    const jobs = (release.ci_job_urls || []).map((u, k) => OL.extLink(u, `job ${k + 1}`)).join(' ');
    const causeList = causes.causes || [];
    const omitted = (timeline.hosts || []).reduce((n, h) => n + (h.events_omitted || 0), 0);
    main.innerHTML =
      `<nav class="crumbs">${OL.navLink('/', 'Releases')} › ${esc(release.id)}</nav>` +
      `<header class="rel-head"><h1>${esc(release.id)} ${OL.statusBadge(release.status)}</h1>` +
      `<p class="meta"><span>service <strong>${esc(release.service)}</strong></span>` +
      `${release.version ? `<span>version <strong>${esc(release.version)}</strong></span>` : ''}` +
      `${release.environment ? `<span>environment <strong>${esc(release.environment)}</strong></span>` : ''}` +
      `${release.commit ? `<span>commit <code>${esc(release.commit)}</code></span>` : ''}` +
      `<span class="${release.hosts_failed ? 'bad' : ''}">hosts failed <strong>${esc(release.hosts_failed || 0)} / ${esc(release.hosts_total || 0)}</strong></span>` +
      `<span>registered ${OL.timeHtml(release.registered_at)}</span></p>` +
      `<p class="meta">${release.ci_run_url ? `<span>CI run ${OL.extLink(release.ci_run_url)}</span>` : ''}` +
      `${jobs ? `<span>CI jobs ${jobs}</span>` : ''}</p></header>` +
      '<div class="rel-body">' +
      '<section class="timeline-panel" aria-labelledby="tl-title"><h2 id="tl-title">Timeline</h2>' +
      `<p class="hint">${esc(timeline.events_total || 0)} events on ${esc((timeline.hosts || []).length)} hosts` +
      `${omitted ? ` (${esc(omitted)} not drawn: the collector's [analysis] timeline_max_events_per_host)` : ''}. ` +
      'Tab to a host, arrow keys to walk its events, Enter to open one.</p>' +
      legendHtml() +
      '<div class="tl-scroll" id="tl-scroll"></div>' +
      '<div class="detail" id="tl-detail" hidden aria-live="polite"></div></section>' +
      '<aside class="causes-panel" aria-labelledby="causes-title"><h2 id="causes-title">Causes</h2>' +
      (causes.advice ? `<p class="advice${causes.rollback_advised ? ' rollback' : causeList.length ? '' : ' calm'}">${esc(causes.advice)}</p>` : '') +
      (causeList.length ? `<ol class="causes">${causeList.map((c, i) => causeHtml(release.id, c, i)).join('')}</ol>`
                        : '<p class="empty no-causes">No candidate causes: nothing in this release failed.</p>') +
      '</aside></div>';
    document.title = `${release.id} (${release.status}) · OctoLaunch`;

    const evidence = new Set();
    for (const c of causeList) {
      for (const e of (c.evidence || []).concat(c.open_first || [])) {
        if (e.agent_id !== undefined) evidence.add(OL.eventKey(e.agent_id, e.epoch, e.seq));
      }
    }
    const detail = main.querySelector('#tl-detail');
    const view = new OL.Timeline(main.querySelector('#tl-scroll'), detail, OL.tooltip());
    view.render(timeline, evidence, selectedHost);
    let width = main.querySelector('#tl-scroll').clientWidth;
    OL.onResize = () => {
      const now = main.querySelector('#tl-scroll').clientWidth;
      if (Math.abs(now - width) < 8) return;
      width = now;
      view.clearSelection();
      view.render(timeline, evidence, selectedHost);
    };
    detail.addEventListener('click', (ev) => {
      if (ev.target.closest('[data-close]')) view.clearSelection();
    });
    main.querySelector('.causes-panel').addEventListener('click', (ev) => {
      const button = ev.target.closest('button.ev');
      if (!button) return;
      const c = causeList[+button.getAttribute('data-c')];
      const item = button.hasAttribute('data-o') ? c.open_first[+button.getAttribute('data-o')]
                                                 : c.evidence[+button.getAttribute('data-v')];
      for (const b of main.querySelectorAll('button.ev.active')) b.classList.remove('active');
      button.classList.add('active');
      if (!view.highlight(OL.eventKey(item.agent_id, item.epoch, item.seq))) {
        detail.hidden = false;
        detail.innerHTML = `<p>This event is not on the timeline (${esc(item.kind)} on ${esc(item.host)}).</p>`;
      }
    });
    if (selectedHost) {
      const row = main.querySelector('g.row.sel .row-bg');
      if (row) row.scrollIntoView({ block: 'center' });
    }
  };

  function legendHtml() {
    const sev = ['error', 'warning', 'ok', 'info'].map((s) =>
      `<span class="lg"><svg width="12" height="12" aria-hidden="true"><rect class="mark sev-${s}" x="1" y="1" width="10" height="10"/></svg>${s}</span>`).join('');
    return '<div class="legend" aria-label="legend">' + sev +
      '<span class="lg"><svg width="22" height="12" aria-hidden="true"><rect class="win win-ok" x="0" y="2" width="22" height="8"/></svg>deploy window</span>' +
      '<span class="lg"><svg width="22" height="12" aria-hidden="true"><rect class="grace" x="0" y="2" width="22" height="8"/></svg>grace period</span>' +
      '<span class="lg"><svg width="12" height="12" aria-hidden="true"><path class="mark sev-warning open-start" d="M6 1l5 5l-5 5l-5 -5z"/></svg>open before deploy start</span>' +
      '<span class="lg shapes">● hook · ◆ resource · ▲ unit/container/health · ▮ deploy marker</span></div>';
  }

  // One host: its recent events across releases, newest first.
  OL.hostPage = async function (main, host, query) {
    const limit = Math.min(10000, Math.max(1, parseInt(query.get('limit') || '500', 10) || 500));
    const [events, hosts] = await Promise.all([
      OL.api('/api/v1/events', { host, order: 'newest', limit }),
      OL.api('/api/v1/hosts')]);
    const agents = (hosts.hosts || []).filter((h) => h.host === host);
    const list = events.events || [];
    const rows = list.map((e) => {
      const tail = e.data && Array.isArray(e.data.tail) && e.data.tail.length
        ? `<details><summary>output tail (${e.data.tail.length} lines)</summary><pre class="tail">${esc(e.data.tail.join('\n'))}</pre></details>` : '';
      return '<tr>' +
        `<td class="nowrap">${OL.timeHtml(e.time, { short: true })}</td>` +
        `<td class="nowrap">${e.release ? OL.navLink(OL.releasePath(e.release, host), e.release) : '<span class="muted">—</span>'}</td>` +
        `<td><span class="kind sev-${OL.severity(flatten(e))}">${esc(e.kind)}</span></td>` +
        `<td class="data">${esc(dataText(e.data))}${tail}</td></tr>`;
    }).join('');
    main.innerHTML =
      `<nav class="crumbs">${OL.navLink('/', 'Releases')} › host ${esc(host)}</nav>` +
      `<h1>Host ${esc(host)}</h1>` +
      (agents.length ? `<p class="meta">${agents.map((a) => `<span>agent <code>${esc(a.agent_id)}</code> · last seen ${OL.timeHtml(a.last_seen)} · ${esc(a.events_stored)} events stored</span>`).join('')}</p>` : '') +
      `<h2>Recent events, newest first</h2><p class="hint">${list.length} events${events.next_cursor ? ` (the newest ${limit})` : ''}.</p>` +
      (list.length ? '<table class="events"><thead><tr><th scope="col">When</th><th scope="col">Release</th>' +
        `<th scope="col">Kind</th><th scope="col">What</th></tr></thead><tbody>${rows}</tbody></table>`
        : '<p class="empty">No events from this host.</p>');
    document.title = `${host} · OctoLaunch`;
  };

  // The timeline's fields from an event's payload, for severity().
  function flatten(e) {
    const d = e.data || {};
    return { kind: e.kind, exit_code: d.exit_code, signal: d.signal, outcome: d.outcome,
             raised: d.state === undefined ? undefined : d.state === 'raised' };
  }

  function dataText(data) {
    if (!data || typeof data !== 'object') return '';
    const parts = [];
    for (const [k, v] of Object.entries(data)) {
      if (k === 'tail' || v === null || v === '' || (Array.isArray(v) && !v.length)) continue;
      const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
      parts.push(`${k}=${text.length > 160 ? text.slice(0, 159) + '…' : text}`);
    }
    return parts.join('  ');
  }
})(window.OL);
