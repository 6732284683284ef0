// Sluice web console: plain ES module, no build step, no network access beyond this broker.
// Hash routes: #/overview, #/topics, #/topics/NAME, #/groups, #/groups/NAME, #/queues, #/messages

const $ = (id) => document.getElementById(id);
const page = () => $('page');

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
  page().replaceChildren();
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

function drawBars(canvas, bars) {
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const max = Math.max(1, ...bars.map((b) => b.value));
  const w = Math.max(8, Math.min(60, (width - 40) / Math.max(1, bars.length) - 8));
  ctx.font = '11px sans-serif';
  bars.forEach((b, i) => {
    const x = 30 + i * (w + 8);
    const bh = ((height - 40) * b.value) / max;
    ctx.fillStyle = '#457b9d';
    ctx.fillRect(x, height - 20 - bh, w, bh);
    ctx.fillStyle = '#1d2330';
    ctx.fillText(String(b.value), x, height - 24 - bh);
    ctx.fillText(b.label, x, height - 6);
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
  page().replaceChildren(
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

async function topics() {
  const rows = await api('/api/topics');
  page().replaceChildren(
    h('h2', {}, 'Topics'),
    table(
      'topics-table',
      ['Topic', 'Partitions', 'Replication factor', 'Under-replicated'],
      rows.map((t) =>
        h(
          'tr',
          { dataset: { testid: 'topic-row', topic: t.name } },
          h('td', {}, h('a', { href: `#/topics/${encodeURIComponent(t.name)}` }, t.name)),
          num(t.partitions),
          num(t.replicationFactor),
          num(t.underReplicatedPartitions),
        ),
      ),
    ),
  );
}

async function topicDetail(name) {
  const t = await api(`/api/topics/${encodeURIComponent(name)}`);
  page().replaceChildren(
    h('h2', { dataset: { testid: 'topic-name' } }, `Topic ${t.name}`),
    table(
      'partitions-table',
      ['Partition', 'Leader', 'Replicas', 'ISR', 'Log start', 'High watermark', ''],
      t.partitions.map((p) =>
        h(
          'tr',
          { dataset: { testid: 'partition-row', partition: p.partition, leader: p.leader } },
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
              {
                href: `#/messages?topic=${encodeURIComponent(t.name)}&partition=${p.partition}&offset=${p.logStartOffset ?? 0}`,
              },
              'browse',
            ),
          ),
        ),
      ),
    ),
  );
}

async function groups() {
  const rows = await api('/api/groups');
  page().replaceChildren(
    h('h2', {}, 'Consumer groups'),
    table(
      'groups-table',
      ['Group', 'State'],
      rows.map((g) =>
        h(
          'tr',
          { dataset: { testid: 'group-row', group: g.group } },
          h('td', {}, h('a', { href: `#/groups/${encodeURIComponent(g.group)}` }, g.group)),
          list(g.state),
        ),
      ),
    ),
  );
}

async function groupDetail(name) {
  const g = await api(`/api/groups/${encodeURIComponent(name)}`);
  const offsets = g.offsets ?? [];
  const totalLag = offsets.reduce((n, o) => n + (o.lag ?? 0), 0);
  const canvas = h('canvas', { id: 'lag-chart', dataset: { testid: 'lag-chart' }, width: 640, height: 180 });
  page().replaceChildren(
    h('h2', {}, `Group ${g.group}`),
    h(
      'p',
      {},
      'State: ',
      h('b', { dataset: { testid: 'group-state' } }, g.state),
      ' · total lag: ',
      h('b', { id: 'total-lag', dataset: { testid: 'total-lag' } }, totalLag),
      ' ',
      h('button', { id: 'group-refresh', type: 'button', onclick: () => route() }, 'Refresh'),
    ),
    h('h3', {}, 'Members'),
    table(
      'members-table',
      ['Member', 'Client', 'Host', 'Assignment'],
      (g.members ?? []).map((m) =>
        h(
          'tr',
          { dataset: { testid: 'member-row' } },
          list(m.memberId ?? m.id ?? ''),
          list(m.clientId ?? ''),
          list(m.clientHost ?? m.host ?? ''),
          list(
            Array.isArray(m.assignment)
              ? m.assignment.map((a) => (typeof a === 'object' ? `${a.topic}[${a.partitions ?? a.partition}]` : a))
              : JSON.stringify(m.assignment ?? ''),
          ),
        ),
      ),
    ),
    h('h3', {}, 'Lag per partition'),
    canvas,
    table(
      'lag-table',
      ['Topic', 'Partition', 'Committed', 'Log end', 'Lag'],
      offsets.map((o) =>
        h(
          'tr',
          { dataset: { testid: 'lag-row', topic: o.topic, partition: o.partition, lag: o.lag } },
          list(o.topic),
          num(o.partition),
          num(o.committed),
          num(o.logEnd),
          num(o.lag),
        ),
      ),
    ),
  );
  drawBars(
    canvas,
    offsets.map((o) => ({ label: `${o.topic}-${o.partition}`, value: o.lag ?? 0 })),
  );
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
  page().replaceChildren(
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

function show(v) {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

async function messages(params) {
  const form = h(
    'form',
    { id: 'messages-form', dataset: { testid: 'messages-form' } },
    h(
      'label',
      {},
      'Topic',
      h('input', { id: 'msg-topic', name: 'topic', required: true, value: params.get('topic') ?? '' }),
    ),
    h(
      'label',
      {},
      'Partition',
      h('input', {
        id: 'msg-partition',
        name: 'partition',
        type: 'number',
        min: 0,
        value: params.get('partition') ?? '0',
      }),
    ),
    h(
      'label',
      {},
      'Offset',
      h('input', { id: 'msg-offset', name: 'offset', type: 'number', min: 0, value: params.get('offset') ?? '0' }),
    ),
    h(
      'label',
      {},
      'Max',
      h('input', { id: 'msg-max', name: 'max', type: 'number', min: 1, max: 1000, value: params.get('max') ?? '50' }),
    ),
    h('button', { id: 'msg-submit', type: 'submit' }, 'Read'),
  );
  const out = h('div', { id: 'messages-out' });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams(new FormData(form));
    location.hash = `#/messages?${q}`;
  });
  page().replaceChildren(h('h2', {}, 'Message browser'), form, out);
  if (!params.get('topic')) return;
  const q = new URLSearchParams({
    topic: params.get('topic'),
    partition: params.get('partition') ?? '0',
    offset: params.get('offset') ?? '0',
    max: params.get('max') ?? '50',
  });
  const rows = await api(`/api/messages?${q}`);
  out.replaceChildren(
    table(
      'messages-table',
      ['Offset', 'Timestamp', 'Key', 'Value', 'Headers'],
      rows.map((m) =>
        h(
          'tr',
          { dataset: { testid: 'message-row', offset: m.offset } },
          num(m.offset),
          list(m.timestamp ? new Date(m.timestamp).toISOString() : ''),
          list(show(m.key)),
          list(show(m.value)),
          list(show(m.headers)),
        ),
      ),
    ),
  );
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
