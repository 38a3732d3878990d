// The web UI in a real Chromium against a real collector fed by real agents.
//
//   node webui.test.mjs COLLECTOR AGENT CLI ARTIFACT_DIR   (the three binaries' paths)
//
// Seeds through the real binaries (octolaunch-collector, `octolaunch-agent run`, `deploy`, `hook`
// and the `octolaunch` CLI for releases and CI stages): a release whose migration fails on one of
// three hosts amid host noise (a noisy deploy script, another service's health probe failing, a
// disk already full when the deploy starts), a healthy release before it, a release of another
// service; then a collector that requires tokens; then
// (unless OCTOLAUNCH_BROWSER_BIG=0) a release of 100 hosts × 100 events. Asserts what a user relies
// on; prints the time from navigation until the big release's host rows and causes are in the DOM
// (not asserted). Screenshots go to ARTIFACT_DIR. Exit 0 passed, 1 failed; run.sh decides skips.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [collectorBin, agentBin, cliBin, artifactDir] = process.argv.slice(2);
if (!artifactDir) {
  console.error('usage: node webui.test.mjs COLLECTOR AGENT CLI ARTIFACT_DIR');
  process.exit(2);
}
const CHROMIUM = process.env.OCTOLAUNCH_CHROMIUM || '/usr/bin/chromium';
const BIG = process.env.OCTOLAUNCH_BROWSER_BIG !== '0';
const bin = (name) => ({ 'octolaunch-collector': collectorBin, 'octolaunch-agent': agentBin, octolaunch: cliBin })[name];
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'octolaunch-browser-'));
fs.mkdirSync(artifactDir, { recursive: true });
const started = Date.now();
const children = [];
let failures = 0;

function log(message) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}`);
}

function check(ok, what, detail) {
  if (ok) {
    log(`ok   ${what}`);
  } else {
    failures++;
    log(`FAIL ${what}${detail === undefined ? '' : ': ' + detail}`);
  }
  return ok;
}

// The environment of every child: no CI variables (the CLI would take ids and URLs from them).
const childEnv = Object.fromEntries(Object.entries(process.env).filter(
  ([k]) => !/^(CI|GITHUB_|GITLAB_|CI_)/.test(k) && k !== 'OCTOLAUNCH_URL' && k !== 'OCTOLAUNCH_TOKEN'));

async function waitFor(what, fn, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Starts a collector on port 0 and returns its addresses (from its "listening" lines).
async function startCollector(name, configText) {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'collector.toml');
  fs.writeFileSync(config, configText || '');
  const child = spawn(bin('octolaunch-collector'), ['--config', config, '--data-dir', path.join(dir, 'data'),
    '--rpc-open', '--rpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0'],
    { env: childEnv, stdio: ['ignore', 'pipe', fs.openSync(path.join(dir, 'collector.log'), 'w')] });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  await waitFor(`collector ${name} to listen (log: ${dir}/collector.log)`, () => {
    if (child.exitCode !== null) throw new Error(`collector ${name} exited with ${child.exitCode}`);
    return /^http listening on /m.test(out);
  }, 20000);
  const rpc = out.match(/^rpc listening on (\S+)/m)[1];
  const http = out.match(/^http listening on (\S+)/m)[1];
  return { rpc, url: `http://${http}`, child };
}

// The agent's config: every host source off that extraToml does not configure (the test must not
// depend on this machine's kernel), plus what the host adds (e.g. another service with a health
// probe).
const SOURCES = ['kmsg', 'cgroup', 'psi', 'disk', 'fd', 'journal', 'containers'];
const sourcesOff = (extraToml) => SOURCES.filter((s) => !extraToml.includes(`[sources.${s}]`))
  .map((s) => `[sources.${s}]\nenabled = false\n`).join('');

class Host {
  constructor(collector, name, extraToml = '') {
    this.name = name;
    this.dir = path.join(work, 'hosts', name);
    fs.mkdirSync(this.dir, { recursive: true });
    this.config = path.join(this.dir, 'agent.toml');
    this.configure(extraToml);
    this.flags = ['--config', this.config, '--spool-dir', path.join(this.dir, 'spool'),
      '--agent-id', 'agent-' + name, '--host', name, '--collector', collector.rpc];
  }

  start() {
    this.child = spawn(bin('octolaunch-agent'), ['run', ...this.flags],
      { env: childEnv, cwd: this.dir, stdio: ['ignore', 'ignore', fs.openSync(path.join(this.dir, 'agent.log'), 'a')] });
    children.push(this.child);
  }

  // Stops the agent, rewrites its config with extraToml and starts it again (same spool).
  async restart(extraToml) {
    await this.stop();
    this.configure(extraToml);
    this.start();
  }

  configure(extraToml) {
    fs.writeFileSync(this.config, sourcesOff(extraToml) + extraToml.replaceAll('@DIR@', this.dir));
  }

  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    await once(this.child, 'exit');
  }

  run(args) {
    const r = spawnSync(bin('octolaunch-agent'), args, { env: childEnv, cwd: this.dir, encoding: 'utf8', timeout: 60000 });
    if (r.error) throw r.error;
    return r;
  }

  // deploy start, one hook per phase (until one fails), deploy finish: a deploy script's steps.
  deploy(release, service, hooks) {
    const common = ['--release', release, '--service', service];
    const start = this.run(['deploy', 'start', ...this.flags, ...common]);
    if (start.status !== 0) throw new Error(`deploy start on ${this.name}: ${start.stderr}`);
    let outcome = 'ok';
    for (const [phase, script] of hooks) {
      const r = this.run(['hook', ...this.flags, ...common, '--phase', phase, '--', 'sh', '-c', script]);
      if (r.status !== 0) {
        outcome = 'failed';
        break;
      }
    }
    const finish = this.run(['deploy', 'finish', ...this.flags, ...common, '--outcome', outcome]);
    if (finish.status !== 0) throw new Error(`deploy finish on ${this.name}: ${finish.stderr}`);
    return outcome;
  }
}

function cli(collector, args, token) {
  const r = spawnSync(bin('octolaunch'), ['--url', collector.url, ...(token ? ['--token', token] : []), ...args],
    { env: childEnv, encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0) throw new Error(`octolaunch ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

// GET p as JSON. A request on a kept-alive connection the collector just closed fails in fetch
// before any answer: tried again, up to three times.
async function api(collector, p, token) {
  let response;
  for (let attempt = 1; ; attempt++) {
    try {
      response = await fetch(collector.url + p, token ? { headers: { Authorization: 'Bearer ' + token } } : {});
      break;
    } catch (e) {
      if (attempt === 3) throw new Error(`GET ${p}: ${e.message} (${e.cause && e.cause.message})`);
    }
  }
  if (!response.ok) throw new Error(`GET ${p}: ${response.status} ${await response.text()}`);
  return response.json();
}

// Waits until the collector holds deploy.finish of release from every host.
async function delivered(collector, release, hosts) {
  await waitFor(`${release}: deploy.finish from ${hosts} hosts`, async () => {
    const body = await api(collector, `/api/v1/events?release=${encodeURIComponent(release)}&kind=deploy.finish&limit=1000`);
    return body.events.length >= hosts;
  }, 60000);
}

const NOISY_PREAMBLE = "echo 'warning: config key \"pool_timeout\" is deprecated'; " +
  "echo 'ERROR: connection to cache:6379 reset, retrying (1/3)' >&2; echo 'retry ok'; ";
// The failing host's migration also prints markup: the page must show it as text.
const FAILING_MIGRATION = NOISY_PREAMBLE +
  "echo 'could not obtain lock on relation \"orders\" <img src=x onerror=alert(1)>' >&2; " +
  "echo '<script>alert(\"hook output\")</script>' >&2; exit 1";
const MIGRATION = NOISY_PREAMBLE + 'echo migrated 12 tables';
// Another service on the box whose health probe fails while @DIR@/batch-down exists.
const NOISY_SERVICE = `
[service.batch]
units = ["batch-worker.service"]
health_interval_seconds = 1
health = [{ type = "command", command = "test ! -e @DIR@/batch-down", timeout_ms = 2000 }]
`;

// A condition already open when the deploy starts: every mount is "full" at 0.1 % used, so the
// agent reports / full as it starts, before the deploy.
const DISK_ALREADY_FULL = `
[sources.disk]
enabled = true
used_percent = 0.1
inode_used_percent = 100.0
mounts = ["/"]
interval_ms = 1000
`;

// The collector's deploy windows end GRACE_SECONDS after deploy.finish, so that web3's disk
// condition, raised after the healthy release's window, is no part of it.
const GRACE_SECONDS = 2;

async function seed(collector) {
  const hosts = ['web1', 'web2', 'web3'].map((h) => new Host(collector, h, NOISY_SERVICE));
  hosts.forEach((h) => h.start());

  // The healthy release first, on a quiet fleet.
  cli(collector, ['release', 'create', '--id', 'api-2.4.0', '--service', 'api', '--version', '2.4.0',
    '--commit', '1a2b3c4', '--environment', 'staging', '--ci-run-url', 'https://ci.example.com/acme/api/runs/800']);
  for (const h of hosts) h.deploy('api-2.4.0', 'api', [['migrate', MIGRATION]]);
  const windowsEnd = Date.now() + (GRACE_SECONDS + 1) * 1000;
  await delivered(collector, 'api-2.4.0', 3);

  // web3's disk source is switched on after that release's windows closed; it finds / "full" at
  // start, a condition open before the next deploy.
  await waitFor('the healthy release\'s deploy windows to close', () => Date.now() > windowsEnd, 10000);
  await hosts[2].restart(NOISY_SERVICE + DISK_ALREADY_FULL);
  await waitFor('web3 reporting / full before its deploy', async () =>
    (await api(collector, '/api/v1/events?host=web3&kind=disk.full')).events.length > 0, 30000);

  const job = 'https://ci.example.com/acme/api/jobs/4411';
  cli(collector, ['release', 'create', '--id', 'api-2.4.1', '--service', 'api', '--version', '2.4.1',
    '--commit', '9f2c1e7', '--environment', 'production',
    '--ci-run-url', 'https://ci.example.com/acme/api/runs/812', '--ci-job-url', job,
    '--target-host', 'web1', '--target-host', 'web2', '--target-host', 'web3']);
  for (const [name, status] of [['build', 'ok'], ['test', 'ok'], ['deploy', 'started']]) {
    cli(collector, ['release', 'stage', 'api-2.4.1', '--name', name, '--status', status, '--job-url', job]);
  }
  // Noise: web1's batch service goes down during the rollout and comes back.
  fs.writeFileSync(path.join(hosts[0].dir, 'batch-down'), 'down\n');
  for (const h of hosts) {
    const outcome = h.deploy('api-2.4.1', 'api', [['migrate', h.name === 'web2' ? FAILING_MIGRATION : MIGRATION],
      ['restart', 'echo restarting api; sleep 0.2; echo api up']]);
    check(outcome === (h.name === 'web2' ? 'failed' : 'ok'), `deploy of api-2.4.1 on ${h.name} ${outcome}`);
  }
  await waitFor('the batch service health probe failing on web1', async () =>
    (await api(collector, '/api/v1/events?host=web1&kind=health.failed')).events.length > 0, 30000);
  fs.rmSync(path.join(hosts[0].dir, 'batch-down'));
  cli(collector, ['release', 'stage', 'api-2.4.1', '--name', 'deploy', '--status', 'failed', '--job-url', job]);

  cli(collector, ['release', 'create', '--id', 'billing-7', '--service', 'billing', '--version', '7',
    '--environment', 'production']);
  hosts[0].deploy('billing-7', 'billing', [['migrate', 'echo billing migrated']]);
  await delivered(collector, 'api-2.4.1', 3);
  await delivered(collector, 'billing-7', 1);
  return hosts;
}

// 100 hosts × 100 events (deploy start, 97 hook output lines, hook exit, deploy finish), recorded
// by the real deploy and hook commands into each host's spool and shipped by a real agent, ten
// hosts at a time; one host's hook fails.
async function seedBig(collector) {
  const release = 'big-100x100';
  cli(collector, ['release', 'create', '--id', release, '--service', 'api', '--version', '3.0.0',
    '--environment', 'load', '--ci-run-url', 'https://ci.example.com/acme/api/runs/900']);
  const names = Array.from({ length: 100 }, (_, i) => `node-${String(i + 1).padStart(3, '0')}`);
  for (let i = 0; i < names.length; i += 10) {
    const batch = names.slice(i, i + 10).map((n) => new Host(collector, n));
    for (const h of batch) {
      const fail = h.name === 'node-042' ? "; echo 'ERROR: schema version 31 expected, found 30' >&2; exit 4" : '';
      h.deploy(release, 'api', [['migrate', `i=1; while [ $i -le 97 ]; do echo "step $i of 97: migrating"; i=$((i+1)); done${fail}`]]);
      h.start();
    }
    await waitFor(`${release}: hosts ${i + 1}..${i + 10} shipped`, async () => {
      const body = await api(collector, `/api/v1/events?release=${release}&kind=deploy.finish&limit=1000`);
      return body.events.length >= i + batch.length;
    }, 120000);
    await Promise.all(batch.map((h) => h.stop()));
  }
  return release;
}

async function shot(page, name) {
  const file = path.join(artifactDir, `webui-${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  log(`screenshot ${file}`);
}

async function main() {
  log(`work dir ${work}`);
  const collector = await startCollector('open', `[analysis]\ndeploy_grace_seconds = ${GRACE_SECONDS}\n`);
  const hosts = await seed(collector);
  log('seeded: api-2.4.1 (migration fails on web2), api-2.4.0 (healthy), billing-7');

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'Europe/Berlin' });
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  page.on('dialog', async (d) => {
    pageErrors.push('a dialog opened (script injection?): ' + d.message());
    await d.dismiss();
  });

  // Releases: newest first, status in words, the filter reflected in the URL.
  await page.goto(collector.url + '/');
  await page.waitForSelector('table.releases tbody tr');
  const ids = await page.$$eval('table.releases tbody tr .rel-link', (as) => as.map((a) => a.textContent));
  const listed = (await api(collector, '/api/v1/releases')).releases.map((r) => r.id);
  check(JSON.stringify(ids) === JSON.stringify(listed), 'release list in the API\'s order (newest first)', `${ids} vs ${listed}`);
  const failedRow = await page.textContent('tr:has(a:text-is("api-2.4.1")) .badge');
  check(/failed/.test(failedRow || ''), 'a failed release says "failed" in words', failedRow);
  await shot(page, 'releases');
  await page.selectOption('#f-service', 'api');
  await page.waitForFunction(() => document.querySelectorAll('table.releases tbody tr').length === 2);
  check(new URL(page.url()).searchParams.get('service') === 'api', 'service filter in the URL', page.url());
  await page.selectOption('#f-environment', 'production');
  await page.waitForFunction(() => document.querySelectorAll('table.releases tbody tr').length === 1);
  const filtered = await page.$$eval('table.releases tbody tr .rel-link', (as) => as.map((a) => a.textContent));
  check(JSON.stringify(filtered) === '["api-2.4.1"]', 'service + environment filter', filtered);
  await page.goto(collector.url + '/?environment=production');
  await page.waitForSelector('table.releases tbody tr');
  check((await page.$$('table.releases tbody tr')).length === 2, 'a filter URL pasted into a new page applies');

  // The failed release: causes in the API's order, one row per host, evidence highlights a mark.
  const causesApi = await api(collector, '/api/v1/releases/api-2.4.1/causes');
  await page.click('a:text-is("api-2.4.1")');
  await page.waitForSelector('g.row.host');
  await page.waitForSelector('.causes-panel');
  check(new URL(page.url()).pathname === '/releases/api-2.4.1', 'a release link changes the URL', page.url());
  const titles = await page.$$eval('.causes .cause h3', (hs) => hs.map((h) => h.textContent.replace(/^#\d+\s*/, '')));
  check(causesApi.causes.length > 0, 'the API ranks causes for the failed release', JSON.stringify(causesApi));
  check(JSON.stringify(titles) === JSON.stringify(causesApi.causes.map((c) => c.title)),
    'causes render in the API\'s ranked order', `${JSON.stringify(titles)} vs ${JSON.stringify(causesApi.causes.map((c) => c.title))}`);
  const rowHosts = await page.$$eval('g.row.host .host-link', (as) => as.map((a) => a.getAttribute('aria-label')));
  check(rowHosts.length === 3, 'one timeline row per host', rowHosts);
  check((await page.$$('g.row.stages .stage')).length >= 3, 'the CI stages on their own row');
  const escaped = await page.textContent('.causes-panel');
  check(escaped.includes('<script>alert("hook output")</script>') || escaped.includes('<img src=x onerror=alert(1)>'),
    'hostile hook output shows as text');
  check((await page.$$('.causes-panel img, .causes-panel script, .detail img')).length === 0, 'hostile hook output made no elements');

  const firstEvidence = causesApi.causes[0].evidence.find((e) => e.seq !== undefined);
  await page.click('.causes .cause:first-child button.ev[data-v]');
  await page.waitForSelector('.mark.hl');
  const hl = await page.$eval('.mark.hl', (m) => ({
    host: m.closest('g.row').querySelector('.host-link').getAttribute('aria-label'),
    inView: (() => {
      const r = m.getBoundingClientRect();
      const box = document.getElementById('tl-scroll').getBoundingClientRect();
      return r.top >= box.top && r.bottom <= box.bottom;
    })(),
  }));
  check(hl.host.startsWith(`host ${firstEvidence.host}:`), 'clicking evidence highlights its mark in its host\'s row', `${hl.host} vs ${firstEvidence.host}`);
  check(hl.inView, 'the highlighted mark is scrolled into view');
  const detail = await page.textContent('#tl-detail');
  check(detail.includes(firstEvidence.kind), 'the highlighted event is shown', detail);
  await shot(page, 'release');
  await page.hover('g.row.host .mark.hl');
  check(await page.isVisible('.tooltip'), 'hovering a mark shows the event');
  await shot(page, 'release-hover');
  await page.mouse.move(0, 0);

  // Keyboard: Tab reaches a host row, arrows walk its marks, Enter opens one.
  await page.focus('g.row.host .host-link');
  await page.keyboard.press('ArrowRight');
  const focused = await page.evaluate(() => document.activeElement.classList.contains('mark'));
  check(focused, 'ArrowRight moves focus from a host row to its first mark');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  check(await page.isVisible('#tl-detail'), 'Enter on a mark shows its event');
  check(await page.evaluate(() => document.activeElement.classList.contains('hl')),
    'the opened mark keeps the focus (arrows go on from it)');
  await shot(page, 'release-keyboard');

  // A condition open before the deploy is marked so, in its host's row.
  const openMarks = await page.$$eval('g.row.host .mark.open-start', (ms) =>
    ms.map((m) => m.closest('g.row').querySelector('.host-link').getAttribute('aria-label')));
  check(openMarks.length > 0 && openMarks.every((l) => l.startsWith('host web3:')),
    'the disk full before the deploy is marked open at start on web3', openMarks);

  // ?host= deep link selects the row.
  await page.goto(collector.url + '/releases/api-2.4.1?host=web3');
  await page.waitForSelector('g.row.host.sel');
  check((await page.getAttribute('g.row.host.sel .host-link', 'aria-label')).startsWith('host web3'), '?host= selects that host\'s row');

  // The healthy release shows no causes.
  await page.goto(collector.url + '/releases/api-2.4.0');
  await page.waitForSelector('.causes-panel');
  check((await page.$$('.causes .cause')).length === 0 && (await page.$$('.no-causes')).length === 1,
    'a healthy release shows no causes');
  check((await page.$$('g.row.host')).length === 3, 'the healthy release has its three host rows');
  await shot(page, 'release-healthy');

  // The host page: recent events across releases, newest first, with the other service's noise.
  await page.goto(collector.url + '/hosts/web1');
  await page.waitForSelector('table.events tbody tr');
  const times = await page.$$eval('table.events time', (ts) => ts.map((t) => Date.parse(t.getAttribute('datetime'))));
  check(times.length > 5 && times.every((t, i) => i === 0 || times[i - 1] >= t), 'host events newest first', times.length);
  const releasesSeen = await page.$$eval('table.events tbody td:nth-child(2) a', (as) => Array.from(new Set(as.map((a) => a.textContent))));
  check(releasesSeen.length >= 3, 'the host page spans releases', releasesSeen);
  check((await page.textContent('table.events')).includes('health.failed'), 'the host page shows the other service\'s probe failing');
  await shot(page, 'host');
  await page.goto(collector.url + '/releases/api-2.4.1');
  await page.waitForSelector('g.row.host');
  await page.setViewportSize({ width: 1280, height: 1400 });
  await shot(page, 'release-tall');
  // A small laptop: the causes go below the timeline, which is redrawn to the new width.
  await page.setViewportSize({ width: 1024, height: 700 });
  await page.waitForFunction(() => {
    const svg = document.querySelector('svg.tl');
    return svg && Math.abs(+svg.getAttribute('width') - document.getElementById('tl-scroll').clientWidth) <= 1;
  });
  check((await page.$$('g.row.host')).length === 3, 'the timeline redrawn for a narrow window keeps its rows');
  await shot(page, 'release-laptop');
  await page.setViewportSize({ width: 1280, height: 800 });
  check(pageErrors.length === 0, 'no script errors or dialogs', pageErrors.join(' | '));

  // A collector that requires tokens: the prompt, then the page with the token.
  const token = 'read-token-for-the-browser-test-0123456789';
  const guarded = await startCollector('tokens', `[http]\ntokens = [{ token = "${token}", scope = "read" }]\n`);
  const tokenPage = await context.newPage();
  await tokenPage.goto(guarded.url + '/');
  await tokenPage.waitForSelector('#token-input');
  check(await tokenPage.evaluate(() => document.activeElement.id === 'token-input'), 'the token prompt takes the focus');
  await shot(tokenPage, 'token-prompt');
  await tokenPage.keyboard.type('wrong-token-wrong-token-wrong-token');
  await tokenPage.keyboard.press('Enter');
  await tokenPage.waitForSelector('.token-prompt:has-text("did not accept")');
  check(true, 'a wrong token is refused and asked again');
  await tokenPage.fill('#token-input', token);
  await tokenPage.keyboard.press('Enter');
  await tokenPage.waitForSelector('h1:text-is("Releases")');
  check(await tokenPage.evaluate((t) => sessionStorage.getItem('octolaunch.token') === t && localStorage.length === 0, token),
    'the token is kept in sessionStorage only');
  await tokenPage.close();

  if (BIG) {
    const big = await seedBig(collector);
    const causes = await api(collector, `/api/v1/releases/${big}/causes`);
    const timeline = await api(collector, `/api/v1/releases/${big}/timeline`);
    log(`${big}: ${timeline.hosts.length} hosts, ${timeline.events_total} events, ${causes.causes.length} causes`);
    const figures = [];
    for (let run = 0; run < 3; run++) {
      await page.goto(collector.url + `/releases/${big}`, { waitUntil: 'commit' });
      const ms = await (await page.waitForFunction((n) =>
        document.querySelectorAll('g.row.host').length === n && document.querySelector('.causes-panel')
          ? performance.now() : false, timeline.hosts.length, { polling: 'raf', timeout: 30000 })).jsonValue();
      figures.push(ms);
    }
    console.log(`FIGURE navigation to ${timeline.hosts.length} host rows and causes in the DOM ` +
      `(${timeline.events_total} events): ${figures.map((f) => f.toFixed(0) + ' ms').join(', ')}`);
    const marks = await page.$$eval('.mark', (m) => m.length);
    const t0 = Date.now();
    await page.click('.causes .cause:first-child button.ev[data-v]');
    await page.waitForSelector('.mark.hl');
    console.log(`FIGURE ${marks} marks drawn; evidence click to highlighted mark: ${Date.now() - t0} ms`);
    check(marks > 0, 'the big release draws its marks');
    await shot(page, 'release-big');
  }
  await browser.close();
  await Promise.all(hosts.map((h) => h.stop()));
}

let code = 0;
try {
  await main();
  code = failures ? 1 : 0;
} catch (e) {
  log(`FAIL ${e.stack || e}`);
  code = 1;
} finally {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  if (code === 0) fs.rmSync(work, { recursive: true, force: true });
  else log(`kept ${work} (collector and agent logs)`);
  log(`${failures} failed checks; took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
process.exit(code);
