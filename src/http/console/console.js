// Sluice web console: plain ES module, no build step, no network access beyond this broker.
// Hash routes: #/overview, #/topics, #/topics/NAME, #/groups, #/groups/NAME, #/queues, #/messages, #/broker

const $ = (id) => document.getElementById(id);
const page = () => $('page');
/** Replaces the page's content; null and false children (a viewer's missing admin controls) are skipped. */
const render = (...nodes) =>
  page().replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined && n !== false));

/** Builds an element: h('td', { class: 'num', dataset: { testid: 'x' } }, 'text', child). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function table(testid, headers, rows) {
  return h(
    'table',
    { dataset: { testid } },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((x) => h('th', {}, x)),
      ),
    ),
    h('tbody', {}, rows),
  );
}

const num = (v) => h('td', { class: 'num' }, v ?? '');
const list = (v) => h('td', {}, Array.isArray(v) ? v.join(', ') : (v ?? ''));

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// The session lives in an HttpOnly cookie; sessionStorage only remembers that this tab logged in, so the
// page makes no data call before a login (a 401 carrying a Basic challenge can make a browser prompt).
const userKey = 'sluice.user';
const requestTimeoutMs = 15_000;

async function api(path, init = {}) {
  const res = await fetch(path, {
    credentials: 'same-origin',
    signal: AbortSignal.timeout(requestTimeoutMs),
    ...init,
    headers: {
      accept: 'application/json',
      'x-requested-with': 'XMLHttpRequest',
      ...(init.body ? { 'content-type': 'application/json' } : {}),
    },
  });
  if (res.status === 401) {
    showLogin();
    throw new HttpError(401, 'please log in');
  }
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  if (!res.ok) throw new HttpError(res.status, body?.message || `${res.status} ${res.statusText}`);
  return body;
}

function setStatus(msg) {
  $('status').textContent = msg ?? '';
}

// ---- login -------------------------------------------------------------

function showLogin() {
  stopTimers();
  sessionStorage.removeItem(userKey);
  $('login-form').hidden = false;
  $('nav').hidden = true;
  $('logout').hidden = true;
  $('user').textContent = '';
  render();
}

function showApp(user) {
  $('login-form').hidden = true;
  $('nav').hidden = false;
  $('logout').hidden = false;
  if (user) {
    sessionStorage.setItem(userKey, JSON.stringify(user));
    $('user').textContent = `${user.username} (${user.role})`;
  }
}

async function login(ev) {
  ev.preventDefault();
  $('login-error').textContent = '';
  const body = JSON.stringify({ username: $('login-username').value, password: $('login-password').value });
  const res = await fetch('/api/login', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body,
  });
  if (!res.ok) {
    $('login-error').textContent = res.status === 429 ? 'Too many attempts; wait a moment' : 'Wrong user or password';
    return;
  }
  const user = await res.json();
  $('login-password').value = '';
  showApp(user);
  if (!location.hash || location.hash === '#/login') location.hash = '#/overview';
  else route();
}

async function logout() {
  try {
    await fetch('/api/logout', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'x-requested-with': 'XMLHttpRequest' },
    });
  } catch {
    // the session expires anyway
  }
  showLogin();
}

// ---- timers ------------------------------------------------------------

const timers = new Set();
function every(ms, fn) {
  const t = setInterval(fn, ms);
  timers.add(t);
}
function stopTimers() {
  for (const t of timers) clearInterval(t);
  timers.clear();
}

// ---- metrics and charts ------------------------------------------------

/** Parses Prometheus text: returns the sum of every sample of each metric name. */
export function parseMetrics(text) {
  const sums = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    sums.set(m[1], (sums.get(m[1]) ?? 0) + v);
  }
  return sums;
}

function drawLines(canvas, series, colors) {
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  ctx.strokeStyle = '#d5dbe5';
  ctx.beginPath();
  ctx.moveTo(30, 10);
  ctx.lineTo(30, height - 20);
  ctx.lineTo(width - 10, height - 20);
  ctx.stroke();
  ctx.fillStyle = '#667';
  ctx.font = '11px sans-serif';
  ctx.fillText(String(Math.round(max)), 2, 14);
  ctx.fillText('0', 18, height - 22);
  series.forEach((s, i) => {
    ctx.strokeStyle = colors[i];
    ctx.fillStyle = colors[i];
    ctx.fillText(s.label, 40 + i * 140, height - 5);
    ctx.beginPath();
    const n = s.values.length;
    s.values.forEach((v, j) => {
      const x = 30 + ((width - 40) * j) / Math.max(1, 59);
      const y = height - 20 - ((height - 30) * v) / max;
      if (j === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    if (n > 0) ctx.stroke();
  });
}

// ---- pages -------------------------------------------------------------

async function overview() {
  const [cluster, topics] = await Promise.all([api('/api/cluster'), api('/api/topics')]);
  const under = topics.reduce((n, t) => n + (t.underReplicatedPartitions ?? 0), 0);
  const canvas = h('canvas', {
    id: 'throughput-chart',
    dataset: { testid: 'throughput-chart' },
    width: 640,
    height: 200,
  });
  const rate = h(
    'p',
    { id: 'throughput-rate', dataset: { testid: 'throughput-rate' }, class: 'muted' },
    'waiting for samples…',
  );
  render(
    h('h2', {}, 'Overview'),
    h(
      'p',
      {},
      'Mode: ',
      h('b', { dataset: { testid: 'cluster-mode' } }, cluster.mode ?? ''),
      ' · controller: ',
      h('b', { dataset: { testid: 'controller-id' } }, cluster.controllerId ?? '-'),
      ' · under-replicated partitions: ',
      h('b', { dataset: { testid: 'under-replicated' } }, under),
    ),
    table(
      'brokers-table',
      ['Broker', 'Host', 'Port', 'Kafka port', 'Controller'],
      (cluster.brokers ?? []).map((b) =>
        h(
          'tr',
          { dataset: { testid: 'broker-row', broker: b.id } },
          num(b.id),
          list(b.host),
          num(b.port),
          b.kafkaPort === null || b.kafkaPort === undefined ? list('-') : num(b.kafkaPort),
          list(b.controller ? 'yes' : ''),
        ),
      ),
    ),
    h('h3', {}, 'Throughput (records/s, all topics)'),
    canvas,
    rate,
  );
  const inRate = [];
  const outRate = [];
  let last;
  const sample = async () => {
    let text;
    try {
      const res = await fetch('/metrics', {
        credentials: 'same-origin',
        headers: { 'x-requested-with': 'XMLHttpRequest' },
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      if (!res.ok) return;
      text = await res.text();
    } catch {
      return;
    }
    const m = parseMetrics(text);
    const now = {
      t: performance.now(),
      in: m.get('sluice_topic_records_in_total') ?? m.get('sluice_records_in_total') ?? 0,
      out: m.get('sluice_topic_records_out_total') ?? m.get('sluice_records_out_total') ?? 0,
    };
    canvas.dataset.totalIn = String(now.in);
    if (last) {
      const dt = (now.t - last.t) / 1000 || 1;
      inRate.push(Math.max(0, (now.in - last.in) / dt));
      outRate.push(Math.max(0, (now.out - last.out) / dt));
      if (inRate.length > 60) inRate.shift();
      if (outRate.length > 60) outRate.shift();
      rate.textContent = `in ${inRate.at(-1).toFixed(1)}/s · out ${outRate.at(-1).toFixed(1)}/s · total in ${now.in}`;
    }
    last = now;
    canvas.dataset.samples = String(inRate.length);
    drawLines(
      canvas,
      [
        { label: 'records in', values: inRate },
        { label: 'records out', values: outRate },
      ],
      ['#e63946', '#2a9d8f'],
    );
  };
  await sample();
  every(2000, sample);
}

// ---- shared bits -------------------------------------------------------

function currentUser() {
  try {
    return JSON.parse(sessionStorage.getItem(userKey) ?? 'null');
  } catch {
    return null;
  }
}
/** Admin-only controls are not drawn for a viewer (the API refuses them with 403 anyway). */
const isAdmin = () => currentUser()?.role === 'admin';

/** A table in a box that scrolls sideways on a narrow screen. */
const wide = (el) => h('div', { class: 'scroll' }, el);

export function formatBytes(n) {
  if (n === null || n === undefined) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
const rate = (v) => (v === null || v === undefined ? '' : Number(v).toFixed(1));

/** A message line under a form: ok (green) or error (red). */
function note(testid) {
  const el = h('p', { class: 'note', dataset: { testid }, role: 'status' });
  el.ok = (msg) => {
    el.className = 'note ok';
    el.textContent = msg;
  };
  el.fail = (msg) => {
    el.className = 'note error';
    el.textContent = msg;
  };
  return el;
}

/** Parses "key=value" lines into an object (blank lines and # comments skipped). */
export function parseConfigLines(text) {
  const out = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`"${line}" is not key=value`);
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

// ---- SVG chart ---------------------------------------------------------

const svgNs = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(svgNs, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}
const palette = ['#e63946', '#2a9d8f', '#457b9d', '#f4a261', '#6a4c93', '#8ab17d', '#d62828', '#264653'];

/**
 * Draws lines of samples into an <svg> (drawn by hand: no chart library). series: [{ label, points:
 * [{ t, v }] }]; x is time over the window the samples cover, y from 0 to the largest value.
 */
export function drawSvgLines(svg, series) {
  // the drawing's units are the element's pixels, so text keeps its shape at any width
  const width = Math.max(200, Math.round(svg.getBoundingClientRect().width) || 640);
  const height = 200;
  const left = 48;
  const bottom = 22;
  const top = 10;
  const right = 10;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.replaceChildren();
  const all = series.flatMap((x) => x.points);
  const max = Math.max(1, ...all.map((p) => p.v));
  const t0 = Math.min(...all.map((p) => p.t), Date.now());
  const t1 = Math.max(t0 + 1, ...all.map((p) => p.t));
  const x = (t) => left + ((width - left - right) * (t - t0)) / (t1 - t0);
  const y = (v) => height - bottom - ((height - bottom - top) * v) / max;
  svg.append(
    s('line', { x1: left, y1: top, x2: left, y2: height - bottom, stroke: '#c5ccd8' }),
    s('line', { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, stroke: '#c5ccd8' }),
    s('text', { x: 4, y: top + 10, class: 'axis' }, String(max)),
    s('text', { x: 4, y: height - bottom, class: 'axis' }, '0'),
    s('text', { x: left, y: height - 6, class: 'axis' }, new Date(t0).toLocaleTimeString()),
    s(
      'text',
      { x: width - right, y: height - 6, class: 'axis', 'text-anchor': 'end' },
      new Date(t1).toLocaleTimeString(),
    ),
  );
  series.forEach((line, i) => {
    const color = palette[i % palette.length];
    if (line.points.length === 0) return;
    const d = line.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
    svg.append(s('path', { d, fill: 'none', stroke: color, 'stroke-width': 2, 'data-series': line.label }));
    const lastPoint = line.points.at(-1);
    svg.append(s('circle', { cx: x(lastPoint.t), cy: y(lastPoint.v), r: 3, fill: color }));
  });
  svg.dataset.series = String(series.length);
  svg.dataset.samples = String(Math.max(0, ...series.map((l) => l.points.length)));
}

function legend(series) {
  return h(
    'p',
    { class: 'legend' },
    series.map((line, i) =>
      h('span', {}, h('i', { style: `background:${palette[i % palette.length]}` }), ` ${line.label} `),
    ),
  );
}

// ---- topics ------------------------------------------------------------

function createTopicForm(done) {
  const msg = note('create-topic-result');
  const form = h(
    'form',
    { id: 'create-topic-form', dataset: { testid: 'create-topic-form' }, class: 'card' },
    h('label', {}, 'Name', h('input', { name: 'name', required: true, pattern: '[A-Za-z0-9._\\-]+', maxlength: 249 })),
    h('label', {}, 'Partitions', h('input', { name: 'partitions', type: 'number', min: 1, max: 10000, value: 1 })),
    h(
      'label',
      {},
      'Replication',
      h('input', { name: 'replicationFactor', type: 'number', min: 1, max: 100, value: 1 }),
    ),
    h(
      'label',
      { class: 'grow' },
      'Configs (key=value per line)',
      h('textarea', { name: 'configs', rows: 2, placeholder: 'retention.ms=86400000\ncleanup.policy=compact' }),
    ),
    h('button', { type: 'submit', dataset: { testid: 'create-topic-submit' } }, 'Create topic'),
    msg,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    try {
      const body = {
        name: String(f.get('name')),
        partitions: Number(f.get('partitions')),
        replicationFactor: Number(f.get('replicationFactor')),
      };
      const configs = parseConfigLines(String(f.get('configs') ?? ''));
      if (Object.keys(configs).length) body.configs = configs;
      await api('/api/topics', { method: 'POST', body: JSON.stringify(body) });
      msg.ok(`Created ${body.name}`);
      await done(body.name);
    } catch (err) {
      msg.fail(`Create failed: ${err.message}`);
    }
  });
  return form;
}

async function topics() {
  const body = h('tbody', {});
  const totals = h('p', { class: 'muted', dataset: { testid: 'topics-totals' } });
  const admin = isAdmin();
  render(
    h('h2', {}, 'Topics'),
    admin
      ? h(
          'details',
          { class: 'admin-only', dataset: { testid: 'create-topic' } },
          h('summary', {}, 'Create a topic'),
          createTopicForm(async (name) => {
            await refresh();
            location.hash = `#/topics/${encodeURIComponent(name)}`;
          }),
        )
      : null,
    totals,
    wide(
      h(
        'table',
        { dataset: { testid: 'topics-table' } },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            // the columns a phone leaves out (class opt) are in the totals line above the table
            ['Topic', 'Partitions', 'Replicas', 'Records', 'Size', 'In/s', 'Out/s', 'Under-replicated'].map((x, i) =>
              h('th', { class: i === 2 || i === 6 ? 'opt' : undefined }, x),
            ),
          ),
        ),
        body,
      ),
    ),
    h(
      'p',
      { class: 'muted small' },
      'Records, size (every replica) and in/s: the whole cluster. Out/s: through this broker.',
    ),
  );
  const refresh = async () => {
    const rows = await api('/api/topics');
    const sum = (k) => rows.reduce((n, t) => n + (t[k] ?? 0), 0);
    totals.textContent = `${rows.length} topics · ${sum('partitions')} partitions · ${sum('records')} records · ${formatBytes(sum('sizeBytes'))} · in ${rate(sum('messagesInPerSec'))}/s · out ${rate(sum('messagesOutPerSec'))}/s · under-replicated ${sum('underReplicatedPartitions')}`;
    body.replaceChildren(
      ...rows.map((t) =>
        h(
          'tr',
          {
            dataset: { testid: 'topic-row', topic: t.name, records: t.records, size: t.sizeBytes },
            class: t.underReplicatedPartitions > 0 ? 'warn' : undefined,
          },
          h('td', {}, h('a', { href: `#/topics/${encodeURIComponent(t.name)}` }, t.name)),
          num(t.partitions),
          h('td', { class: 'num opt' }, t.replicationFactor),
          h('td', { class: 'num', dataset: { testid: 'topic-records' } }, t.records),
          h('td', { class: 'num', dataset: { testid: 'topic-size' } }, formatBytes(t.sizeBytes)),
          num(rate(t.messagesInPerSec)),
          h('td', { class: 'num opt' }, rate(t.messagesOutPerSec)),
          num(t.underReplicatedPartitions),
        ),
      ),
    );
  };
  await refresh();
  every(5000, () => refresh().catch(() => undefined));
}

async function topicDetail(name) {
  const enc = encodeURIComponent(name);
  const [t, configs] = await Promise.all([api(`/api/topics/${enc}`), api(`/api/topics/${enc}/configs`)]);
  const admin = isAdmin();
  const overrides = configs.configs.filter((c) => c.source === 'DYNAMIC_TOPIC_CONFIG');
  const adminBox = [];
  if (admin) {
    const cfgMsg = note('alter-config-result');
    const cfgForm = h(
      'form',
      { id: 'alter-config-form', dataset: { testid: 'alter-config-form' } },
      h(
        'label',
        {},
        'Key',
        h(
          'input',
          { name: 'key', required: true, list: 'config-keys', dataset: { testid: 'config-key' } },
          h(
            'datalist',
            { id: 'config-keys' },
            configs.configs.map((c) => h('option', { value: c.name })),
          ),
        ),
      ),
      h(
        'label',
        {},
        'Value (empty: remove the override)',
        h('input', { name: 'value', dataset: { testid: 'config-value' } }),
      ),
      h('button', { type: 'submit', dataset: { testid: 'alter-config-submit' } }, 'Set'),
      cfgMsg,
    );
    cfgForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = new FormData(cfgForm);
      const value = String(f.get('value') ?? '');
      try {
        await api(`/api/topics/${enc}/configs`, {
          method: 'PUT',
          body: JSON.stringify({ [String(f.get('key'))]: value === '' ? null : value }),
        });
        await route();
      } catch (err) {
        cfgMsg.fail(`Change failed: ${err.message}`);
      }
    });
    const partMsg = note('add-partitions-result');
    const partForm = h(
      'form',
      { id: 'add-partitions-form', dataset: { testid: 'add-partitions-form' } },
      h(
        'label',
        {},
        'Partitions',
        h('input', { name: 'count', type: 'number', min: t.partitions.length + 1, value: t.partitions.length + 1 }),
      ),
      h('button', { type: 'submit', dataset: { testid: 'add-partitions-submit' } }, 'Add partitions'),
      partMsg,
    );
    partForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api(`/api/topics/${enc}/partitions`, {
          method: 'POST',
          body: JSON.stringify({ count: Number(new FormData(partForm).get('count')) }),
        });
        await route();
      } catch (err) {
        partMsg.fail(`Failed: ${err.message}`);
      }
    });
    const delMsg = note('delete-topic-result');
    const really = h(
      'button',
      { type: 'button', class: 'danger', hidden: true, dataset: { testid: 'delete-topic-confirm' } },
      `Yes, delete ${name} and its records`,
    );
    const del = h('button', { type: 'button', class: 'danger', dataset: { testid: 'delete-topic' } }, 'Delete topic…');
    del.addEventListener('click', () => {
      really.hidden = false;
    });
    really.addEventListener('click', async () => {
      really.disabled = true;
      try {
        await api(`/api/topics/${enc}`, { method: 'DELETE' });
        location.hash = '#/topics';
      } catch (err) {
        really.disabled = false;
        delMsg.fail(`Delete failed: ${err.message}`);
      }
    });
    adminBox.push(
      h(
        'section',
        { class: 'card admin-only', dataset: { testid: 'topic-admin' } },
        h('h3', {}, 'Change'),
        cfgForm,
        partForm,
        h('div', { class: 'row' }, del, really),
        delMsg,
      ),
    );
  }
  render(
    h('h2', { dataset: { testid: 'topic-name' } }, `Topic ${t.name}`),
    h('p', {}, h('a', { href: `#/messages?topic=${enc}`, class: 'button' }, 'Browse messages'), ' '),
    wide(
      table(
        'partitions-table',
        ['Partition', 'Leader', 'Replicas', 'ISR', 'Log start', 'High watermark', ''],
        t.partitions.map((p) =>
          h(
            'tr',
            {
              dataset: { testid: 'partition-row', partition: p.partition, leader: p.leader },
              class: p.isr.length < p.replicas.length ? 'warn' : undefined,
            },
            num(p.partition),
            h('td', { class: 'num', dataset: { testid: 'partition-leader' } }, p.leader),
            list(p.replicas),
            list(p.isr),
            num(p.logStartOffset),
            num(p.highWatermark),
            h(
              'td',
              {},
              h(
                'a',
                { href: `#/messages?topic=${enc}&partition=${p.partition}&offset=${p.logStartOffset ?? 0}` },
                'browse',
              ),
            ),
          ),
        ),
      ),
    ),
    h('h3', {}, 'Configs overridden on this topic'),
    overrides.length
      ? wide(
          table(
            'topic-configs',
            ['Key', 'Value'],
            overrides.map((c) =>
              h(
                'tr',
                { dataset: { testid: 'config-row', key: c.name } },
                list(c.name),
                list(c.sensitive ? '(hidden)' : c.value),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted', dataset: { testid: 'no-overrides' } }, 'None: every key has the broker default.'),
    h(
      'details',
      {},
      h('summary', {}, `All ${configs.configs.length} configs`),
      wide(
        table(
          'all-configs',
          ['Key', 'Value', 'Source'],
          configs.configs.map((c) =>
            h('tr', {}, list(c.name), list(c.sensitive ? '(hidden)' : c.value), list(c.source)),
          ),
        ),
      ),
    ),
    ...adminBox,
  );
}

// ---- groups ------------------------------------------------------------

async function groups() {
  const rows = await api('/api/groups');
  render(
    h('h2', {}, 'Consumer groups'),
    wide(
      table(
        'groups-table',
        ['Group', 'State', 'Members', 'Total lag'],
        rows.map((g) =>
          h(
            'tr',
            { dataset: { testid: 'group-row', group: g.group, lag: g.totalLag ?? '' } },
            h('td', {}, h('a', { href: `#/groups/${encodeURIComponent(g.group)}` }, g.group)),
            h('td', {}, h('span', { class: `state state-${String(g.state).toLowerCase()}` }, g.state)),
            num(g.members ?? '–'),
            num(g.totalLag ?? '–'),
          ),
        ),
      ),
    ),
  );
}

/** Lag samples per group kept while the page is open (bounded: the newest lagSamplesMax per partition). */
const lagSamplesMax = 120;
const lagHistory = new Map();

async function groupDetail(name) {
  const enc = encodeURIComponent(name);
  if (!lagHistory.has(name)) {
    lagHistory.clear(); // one group's history at a time
    lagHistory.set(name, new Map());
  }
  const history = lagHistory.get(name);
  const state = h('b', { dataset: { testid: 'group-state' } });
  const total = h('b', { id: 'total-lag', dataset: { testid: 'total-lag' } });
  const svg = s('svg', { id: 'lag-chart', 'data-testid': 'lag-chart', class: 'chart', role: 'img' });
  const legendBox = h('div', {});
  const membersBox = h('div', {});
  const lagBox = h('div', {});
  const refresh = async () => {
    const g = await api(`/api/groups/${enc}`);
    const offsets = g.offsets ?? [];
    state.textContent = g.state;
    total.textContent = String(offsets.reduce((n, o) => n + (o.lag ?? 0), 0));
    const now = Date.now();
    for (const o of offsets) {
      const key = `${o.topic}-${o.partition}`;
      const points = history.get(key) ?? [];
      points.push({ t: now, v: o.lag ?? 0 });
      if (points.length > lagSamplesMax) points.shift();
      history.set(key, points);
    }
    const series = [...history.entries()].slice(0, 16).map(([label, points]) => ({ label, points }));
    drawSvgLines(svg, series);
    legendBox.replaceChildren(legend(series));
    const owner = new Map();
    for (const m of g.members ?? [])
      for (const a of m.assignment ?? []) for (const p of a.partitions ?? []) owner.set(`${a.topic}-${p}`, m.clientId);
    membersBox.replaceChildren(
      (g.members ?? []).length
        ? wide(
            table(
              'members-table',
              ['Member', 'Client', 'Host', 'Assignment'],
              g.members.map((m) =>
                h(
                  'tr',
                  { dataset: { testid: 'member-row' } },
                  list(m.memberId),
                  list(m.clientId),
                  list(m.host),
                  list((m.assignment ?? []).map((a) => `${a.topic} [${a.partitions.join(', ')}]`)),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted', dataset: { testid: 'no-members' } }, 'No members (the group is empty).'),
    );
    lagBox.replaceChildren(
      wide(
        table(
          'lag-table',
          ['Topic', 'Partition', 'Committed', 'Log end', 'Lag', 'Consumer'],
          offsets.map((o) =>
            h(
              'tr',
              { dataset: { testid: 'lag-row', topic: o.topic, partition: o.partition, lag: o.lag ?? '' } },
              list(o.topic),
              num(o.partition),
              num(o.committed ?? '–'),
              num(o.logEnd ?? '–'),
              num(o.lag ?? '–'),
              list(owner.get(`${o.topic}-${o.partition}`) ?? ''),
            ),
          ),
        ),
      ),
    );
  };
  render(
    h('h2', {}, `Group ${name}`),
    h(
      'p',
      {},
      'State: ',
      state,
      ' · total lag: ',
      total,
      ' ',
      h('button', { id: 'group-refresh', type: 'button', onclick: () => route() }, 'Refresh'),
      h('span', { class: 'muted small' }, ' (updates every 3 s)'),
    ),
    h('h3', {}, 'Lag per partition over time'),
    svg,
    legendBox,
    lagBox,
    h('h3', {}, 'Members and assignments'),
    membersBox,
  );
  await refresh();
  every(3000, () => refresh().catch(() => undefined));
}

async function queues() {
  const [qs, dlqs] = await Promise.all([api('/api/queues'), api('/api/dlq')]);
  const result = h('p', { id: 'redrive-result', dataset: { testid: 'redrive-result' } });
  const redrive = async (queue, button) => {
    button.disabled = true;
    try {
      const r = await api(`/api/dlq/${encodeURIComponent(queue)}/redrive`, { method: 'POST', body: '{}' });
      await queues();
      $('redrive-result').textContent = `Moved ${r.moved} message(s) back to ${queue}`;
    } catch (err) {
      button.disabled = false;
      $('redrive-result').textContent = `Redrive failed: ${err.message}`;
    }
  };
  render(
    h('h2', {}, 'Queues ', h('button', { id: 'queues-refresh', type: 'button', onclick: () => route() }, 'Refresh')),
    table(
      'queues-table',
      ['Queue', 'Depth', 'In flight', 'Consumers', 'Enqueued', 'Dequeued', 'Dead-lettered'],
      qs.map((q) =>
        h(
          'tr',
          { dataset: { testid: 'queue-row', queue: q.queue, depth: q.depth } },
          list(q.queue),
          num(q.depth),
          num(q.inFlight),
          num(q.consumers),
          num(q.enqueued),
          num(q.dequeued),
          num(q.deadLettered),
        ),
      ),
    ),
    h('h3', {}, 'Dead-letter queues'),
    table(
      'dlq-table',
      ['DLQ', 'Queue', 'Depth', ''],
      dlqs.map((d) => {
        const button = h(
          'button',
          {
            type: 'button',
            dataset: { testid: 'redrive-button', queue: d.queue ?? '' },
            disabled: !d.queue || d.depth === 0,
          },
          'Redrive',
        );
        button.addEventListener('click', () => redrive(d.queue, button));
        return h(
          'tr',
          { dataset: { testid: 'dlq-row', dlq: d.dlq, queue: d.queue ?? '', depth: d.depth } },
          list(d.dlq),
          list(d.queue ?? '(shared)'),
          num(d.depth),
          h('td', {}, button),
        );
      }),
    ),
    result,
  );
}

// ---- messages ----------------------------------------------------------

/** A value as text: JSON pretty-printed when it parses as an object or array. */
export function prettyValue(v) {
  if (v === null || v === undefined) return { text: '', json: false };
  const t = v.trim();
  if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
    try {
      return { text: JSON.stringify(JSON.parse(t), null, 2), json: true };
    } catch {
      // not JSON after all
    }
  }
  return { text: v, json: false };
}

function messageRows(rows) {
  return rows.map((m) => {
    const value = prettyValue(m.value);
    const headers = Object.entries(m.headers ?? {});
    return h(
      'tr',
      { dataset: { testid: 'message-row', offset: m.offset } },
      num(m.offset),
      h(
        'td',
        { class: 'time' },
        m.timestamp ? new Date(m.timestamp).toISOString().replace('T', ' ').replace('Z', '') : '',
      ),
      h('td', { class: 'key', dataset: { testid: 'message-key' } }, m.key ?? h('i', { class: 'muted' }, 'null')),
      h(
        'td',
        { class: 'value', dataset: { testid: 'message-value' } },
        m.value === null
          ? h('i', { class: 'muted' }, 'null')
          : h('pre', { class: value.json ? 'json' : '' }, value.text),
      ),
      h(
        'td',
        { dataset: { testid: 'message-headers' } },
        headers.map(([k, v]) => h('div', { class: 'header' }, h('b', {}, k), ': ', v)),
      ),
    );
  });
}

function produceForm(topic, partitions, done) {
  const msg = note('produce-result');
  const form = h(
    'form',
    { id: 'produce-form', dataset: { testid: 'produce-form' }, class: 'card' },
    h('label', {}, 'Topic', h('input', { name: 'topic', required: true, value: topic ?? '' })),
    h(
      'label',
      {},
      'Partition',
      h('input', { name: 'partition', type: 'number', min: 0, placeholder: 'by key', value: partitions ?? '' }),
    ),
    h('label', {}, 'Key', h('input', { name: 'key', dataset: { testid: 'produce-key' } })),
    h(
      'label',
      { class: 'grow' },
      'Value',
      h('textarea', { name: 'value', rows: 3, dataset: { testid: 'produce-value' } }),
    ),
    h(
      'label',
      { class: 'grow' },
      'Headers (name=value per line)',
      h('textarea', { name: 'headers', rows: 2, dataset: { testid: 'produce-headers' } }),
    ),
    h('button', { type: 'submit', dataset: { testid: 'produce-submit' } }, 'Produce'),
    msg,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    try {
      const body = { topic: String(f.get('topic')), value: String(f.get('value') ?? '') };
      const key = String(f.get('key') ?? '');
      if (key !== '') body.key = key;
      if (String(f.get('partition') ?? '') !== '') body.partition = Number(f.get('partition'));
      const headers = parseConfigLines(String(f.get('headers') ?? ''));
      if (Object.keys(headers).length) body.headers = headers;
      const r = await api('/api/messages', { method: 'POST', body: JSON.stringify(body) });
      msg.ok(`Produced to ${r.topic} partition ${r.partition} at offset ${r.offset}`);
      await done(r);
    } catch (err) {
      msg.fail(`Produce failed: ${err.message}`);
    }
  });
  return form;
}

async function messages(params) {
  const topicNames = await api('/api/topics').then(
    (ts) => ts.map((t) => t.name),
    () => [],
  );
  const field = (label, attrs) => h('label', {}, label, h('input', attrs));
  const from = params.get('from') ?? (params.get('time') ? 'time' : 'offset');
  const form = h(
    'form',
    { id: 'messages-form', dataset: { testid: 'messages-form' } },
    h(
      'label',
      {},
      'Topic',
      h('input', {
        id: 'msg-topic',
        name: 'topic',
        required: true,
        list: 'topic-names',
        value: params.get('topic') ?? '',
      }),
      h(
        'datalist',
        { id: 'topic-names' },
        topicNames.map((n) => h('option', { value: n })),
      ),
    ),
    field('Partition', {
      id: 'msg-partition',
      name: 'partition',
      type: 'number',
      min: 0,
      value: params.get('partition') ?? '0',
    }),
    h(
      'label',
      {},
      'From',
      h(
        'select',
        { id: 'msg-from', name: 'from' },
        h('option', { value: 'offset', selected: from === 'offset' }, 'offset'),
        h('option', { value: 'time', selected: from === 'time' }, 'time'),
      ),
    ),
    field('Offset', { id: 'msg-offset', name: 'offset', type: 'number', min: 0, value: params.get('offset') ?? '0' }),
    field('Time (UTC)', {
      id: 'msg-time',
      name: 'time',
      type: 'datetime-local',
      step: 1,
      value: params.get('time') ?? '',
    }),
    field('Search key/value', {
      id: 'msg-contains',
      name: 'contains',
      placeholder: 'substring, any case',
      value: params.get('contains') ?? '',
      dataset: { testid: 'msg-contains' },
    }),
    field('Max', { id: 'msg-max', name: 'max', type: 'number', min: 1, max: 500, value: params.get('max') ?? '50' }),
    h('button', { id: 'msg-submit', type: 'submit' }, 'Read'),
  );
  const out = h('div', { id: 'messages-out' });
  const summary = h('p', { class: 'muted', dataset: { testid: 'search-summary' } });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (String(v) !== '') q.set(k, String(v));
    location.hash = `#/messages?${q}`;
  });
  const admin = isAdmin();
  render(
    h('h2', {}, 'Messages'),
    form,
    summary,
    out,
    admin
      ? h(
          'details',
          { class: 'admin-only', dataset: { testid: 'produce' } },
          h('summary', {}, 'Produce a test message'),
          produceForm(params.get('topic'), params.get('partition'), async (r) => {
            location.hash = `#/messages?topic=${encodeURIComponent(r.topic)}&partition=${r.partition}&offset=${r.offset}`;
          }),
        )
      : null,
  );
  const topic = params.get('topic');
  if (!topic) return;
  const q = new URLSearchParams({ topic, partition: params.get('partition') ?? '0', max: params.get('max') ?? '50' });
  const time = params.get('time');
  if (from === 'time' && time) q.set('timestamp', String(Date.parse(`${time}Z`)));
  else q.set('offset', params.get('offset') ?? '0');
  const contains = params.get('contains');
  let rows;
  if (contains) {
    q.set('contains', contains);
    const r = await api(`/api/messages/search?${q}`);
    rows = r.matches;
    summary.textContent = `${r.matches.length} match(es) in ${r.scanned} record(s) scanned; ${
      r.reachedEnd ? 'reached the end of the partition' : `stopped at offset ${r.nextOffset}`
    } (high watermark ${r.highWatermark}).`;
    summary.dataset.scanned = String(r.scanned);
    if (!r.reachedEnd) {
      const more = new URLSearchParams(params);
      more.set('from', 'offset');
      more.set('offset', String(r.nextOffset));
      summary.append(' ', h('a', { href: `#/messages?${more}`, dataset: { testid: 'search-more' } }, 'Search on'));
    }
  } else {
    rows = await api(`/api/messages?${q}`);
    summary.textContent = `${rows.length} record(s)`;
    const last = rows.at(-1);
    if (last) {
      const more = new URLSearchParams(params);
      more.set('from', 'offset');
      more.set('offset', String(last.offset + 1));
      summary.append(' · ', h('a', { href: `#/messages?${more}` }, 'Next page'));
    }
  }
  out.replaceChildren(
    wide(
      h(
        'table',
        { dataset: { testid: 'messages-table' }, class: 'messages' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Offset', 'Time (UTC)', 'Key', 'Value', 'Headers'].map((x) => h('th', {}, x)),
          ),
        ),
        h('tbody', {}, messageRows(rows)),
      ),
    ),
  );
}

// ---- broker ------------------------------------------------------------

/** Parses Prometheus text into samples: [{ name, labels: {..}, value }]. */
export function parseSamples(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    const labels = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value });
  }
  return out;
}

async function metricsText() {
  const res = await fetch('/metrics', {
    credentials: 'same-origin',
    headers: { 'x-requested-with': 'XMLHttpRequest' },
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  if (res.status === 401) {
    showLogin();
    throw new HttpError(401, 'please log in');
  }
  if (!res.ok) throw new HttpError(res.status, `metrics: ${res.status}`);
  return res.text();
}

function meter(used, total) {
  const pct = total > 0 ? Math.round((100 * used) / total) : 0;
  return h(
    'div',
    { class: `meter${pct >= 90 ? ' full' : ''}`, title: `${pct}% used` },
    h('span', { style: `width:${pct}%` }),
    h('em', {}, `${pct}%`),
  );
}

async function broker() {
  const cluster = await api('/api/cluster');
  const me = await api('/api/me');
  const head = h('p', { dataset: { testid: 'broker-summary' } });
  const disks = h('div', {});
  const memory = h('div', {});
  const clusterDisks = h('div', {});
  const requests = h('div', {});
  const svg = s('svg', { id: 'request-chart', 'data-testid': 'request-chart', class: 'chart', role: 'img' });
  const chartLegend = h('div', {});
  render(
    h('h2', {}, 'Broker'),
    head,
    h('h3', {}, "This broker's log directories"),
    disks,
    h('h3', {}, 'Disk of every broker'),
    clusterDisks,
    h('h3', {}, 'Memory'),
    memory,
    h('h3', {}, 'Requests (native and Kafka listeners)'),
    svg,
    chartLegend,
    requests,
    h('h3', {}, 'Brokers in the cluster'),
    wide(
      table(
        'cluster-brokers',
        ['Broker', 'Host', 'Port', 'Kafka port', 'Controller', 'Up since'],
        (cluster.brokers ?? []).map((b) =>
          h(
            'tr',
            { dataset: { testid: 'cluster-broker', broker: b.id } },
            num(b.id),
            list(b.host),
            num(b.port),
            list(b.kafkaPort ?? '–'),
            list(b.controller ? 'yes' : ''),
            list(b.upSince ?? ''),
          ),
        ),
      ),
    ),
    h(
      'p',
      { class: 'muted small' },
      `Figures are those of the broker serving this console (logged in as ${me.username}).`,
    ),
  );
  const self = (cluster.brokers ?? []).find((b) => b.upSince);
  const showClusterDisks = async () => {
    const r = await api('/api/log-dirs');
    clusterDisks.replaceChildren(
      wide(
        table(
          'cluster-disks',
          ['Broker', 'Log directory', 'Replicas', 'Data', 'Free', 'Total', 'Used'],
          r.dirs.map((d) =>
            h(
              'tr',
              { dataset: { testid: 'cluster-disk', broker: d.broker, size: d.sizeBytes } },
              num(d.broker),
              list(d.dir),
              num(d.replicas),
              num(formatBytes(d.sizeBytes)),
              num(formatBytes(d.usableBytes)),
              num(formatBytes(d.totalBytes)),
              h('td', {}, d.totalBytes ? meter(d.totalBytes - (d.usableBytes ?? 0), d.totalBytes) : ''),
            ),
          ),
        ),
      ),
      ...(r.unreachable.length
        ? [h('p', { class: 'error' }, r.unreachable.map((u) => `broker ${u.broker}: ${u.error}`).join('; '))]
        : []),
    );
  };
  await showClusterDisks().catch((err) => clusterDisks.replaceChildren(h('p', { class: 'error' }, err.message)));
  let last;
  const rateHistory = new Map();
  const sample = async () => {
    const samples = parseSamples(await metricsText());
    const pick = (name) => samples.filter((x) => x.name === name);
    const one = (name) => pick(name)[0]?.value;
    const now = Date.now();
    head.textContent = `Broker ${self?.id ?? '?'} · ${cluster.mode} · up since ${self?.upSince ?? '?'} · under-replicated partitions ${one('sluice_under_replicated_partitions') ?? 0}`;
    const free = new Map(pick('sluice_log_dir_free_bytes').map((x) => [x.labels.dir, x.value]));
    const dirs = pick('sluice_log_dir_total_bytes');
    disks.replaceChildren(
      dirs.length
        ? wide(
            table(
              'disk-table',
              ['Log directory', 'Free', 'Total', 'Used'],
              dirs.map((d) =>
                h(
                  'tr',
                  { dataset: { testid: 'disk-row', dir: d.labels.dir, free: free.get(d.labels.dir) ?? '' } },
                  list(d.labels.dir),
                  num(formatBytes(free.get(d.labels.dir))),
                  num(formatBytes(d.value)),
                  h('td', {}, meter(d.value - (free.get(d.labels.dir) ?? 0), d.value)),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'No log directory figures yet.'),
    );
    const rss = one('sluice_process_resident_memory_bytes');
    const heap = one('sluice_nodejs_heap_size_used_bytes');
    const heapTotal = one('sluice_nodejs_heap_size_total_bytes');
    const lag = one('sluice_nodejs_eventloop_lag_p99_seconds');
    memory.replaceChildren(
      h(
        'p',
        {},
        'Resident: ',
        h('b', { dataset: { testid: 'rss', bytes: rss ?? '' } }, formatBytes(rss)),
        ' · heap used: ',
        h('b', {}, formatBytes(heap)),
        ' of ',
        formatBytes(heapTotal),
        lag !== undefined ? ` · event loop lag p99: ${(lag * 1000).toFixed(1)} ms` : '',
      ),
    );
    const counts = new Map(pick('sluice_requests_total').map((x) => [x.labels.api, x.value]));
    const sums = new Map(pick('sluice_request_duration_seconds_sum').map((x) => [x.labels.api, x.value]));
    const buckets = pick('sluice_request_duration_seconds_bucket');
    const p99 = (api) => {
      const bs = buckets.filter((b) => b.labels.api === api && b.labels.le !== '+Inf');
      const total = counts.get(api) ?? 0;
      const hit = bs.sort((a, b) => Number(a.labels.le) - Number(b.labels.le)).find((b) => b.value >= total * 0.99);
      return hit ? Number(hit.labels.le) : undefined;
    };
    const rows = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    const current = { t: now, counts, sums };
    const perSec = (api) => {
      if (!last) return undefined;
      const dt = (now - last.t) / 1000 || 1;
      return Math.max(0, ((counts.get(api) ?? 0) - (last.counts.get(api) ?? 0)) / dt);
    };
    const avgMs = (api) => {
      const n = (counts.get(api) ?? 0) - (last?.counts.get(api) ?? 0);
      const sum = (sums.get(api) ?? 0) - (last?.sums.get(api) ?? 0);
      if (n > 0) return (1000 * sum) / n;
      const all = counts.get(api) ?? 0;
      return all > 0 ? (1000 * (sums.get(api) ?? 0)) / all : undefined;
    };
    for (const [api] of rows.slice(0, 6)) {
      const r = perSec(api);
      if (r === undefined) continue;
      const pts = rateHistory.get(api) ?? [];
      pts.push({ t: now, v: Math.round(r * 10) / 10 });
      if (pts.length > lagSamplesMax) pts.shift();
      rateHistory.set(api, pts);
    }
    const series = [...rateHistory.entries()].map(([label, points]) => ({ label: `${label}/s`, points }));
    drawSvgLines(svg, series);
    chartLegend.replaceChildren(legend(series));
    requests.replaceChildren(
      wide(
        table(
          'requests-table',
          ['API', 'Requests', 'Per second', 'Average ms', 'p99 ≤ ms'],
          rows.map(([api, n]) => {
            const r = perSec(api);
            const avg = avgMs(api);
            const p = p99(api);
            return h(
              'tr',
              { dataset: { testid: 'request-row', api } },
              list(api),
              num(n),
              num(r === undefined ? '…' : r.toFixed(1)),
              num(avg === undefined ? '' : avg.toFixed(2)),
              num(p === undefined ? '' : p * 1000),
            );
          }),
        ),
      ),
    );
    last = current;
  };
  await sample();
  every(3000, () => sample().catch(() => undefined));
}

// ---- router ------------------------------------------------------------

let routing = 0;
async function route() {
  stopTimers();
  setStatus('');
  const hash = location.hash.replace(/^#\/?/, '') || 'overview';
  const [pathPart, query = ''] = hash.split('?');
  const [section, ...rest] = pathPart.split('/');
  const arg = rest.length ? decodeURIComponent(rest.join('/')) : undefined;
  for (const a of document.querySelectorAll('nav a'))
    a.classList.toggle('active', a.getAttribute('href') === `#/${section}`);
  const mine = ++routing;
  page().dataset.route = section;
  page().dataset.ready = 'false';
  try {
    if (section === 'topics') await (arg ? topicDetail(arg) : topics());
    else if (section === 'groups') await (arg ? groupDetail(arg) : groups());
    else if (section === 'queues') await queues();
    else if (section === 'messages') await messages(new URLSearchParams(query));
    else if (section === 'broker') await broker();
    else await overview();
  } catch (err) {
    if (err.status !== 401 && mine === routing) setStatus(err.message);
  }
  if (mine === routing) page().dataset.ready = 'true';
}

async function start() {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  window.addEventListener('hashchange', () => {
    if ($('login-form').hidden) route();
  });
  // a tab that logged in keeps its session (cookie) across reloads
  let user;
  try {
    user = JSON.parse(sessionStorage.getItem(userKey) ?? 'null');
  } catch {
    user = null;
  }
  if (user) {
    showApp(user);
    route();
  } else showLogin();
}

start();
