// The dashboard page: one live feed (SSE) keeps a small state; each panel is redrawn from it.
// Plain DOM, text set with textContent only (event data is never parsed as HTML).

const API = '/dashboard/api';
const MAX_EVENT_ROWS = 300;
const ACTIVE = new Set(['running', 'suspended', 'queued']);

const state = {
  runs: new Map(),
  approvals: [],
  tree: [],
  health: undefined,
  metrics: [],
  events: [],
  agents: [],
  selected: undefined,
  restartsSeen: new Map(),
};

/** h('td', { class: 'num' }, 'text', child…) */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'style') el.setAttribute('style', v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
const $ = (id) => document.getElementById(id);
const pill = (status) => h('span', { class: `pill s-${status}` }, status);
const fmtInt = (n) => Number(n ?? 0).toLocaleString('en-US');
const fmtCost = (n) => (n ? `$${n < 0.01 ? n.toFixed(4) : n.toFixed(2)}` : '—');

function fmtDuration(ms) {
  if (!(ms >= 0)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} m ${Math.round((ms % 60_000) / 1000)} s`;
}
const runMs = (r) => (r.endedAt ? Date.parse(r.endedAt) : Date.now()) - Date.parse(r.startedAt);
// Long ids keep both ends: the start tells runs apart by kind, the end by number (…-q2).
const shortId = (id) => (id.length > 20 ? `${id.slice(0, 9)}…${id.slice(-8)}` : id);
// A sub-run whose id extends its parent's shows only the part that tells it apart.
const runLabel = (r) => (r.parentRunId && r.runId.startsWith(r.parentRunId) && r.runId.length > r.parentRunId.length ? `…${r.runId.slice(r.parentRunId.length)}` : shortId(r.runId));
const clockTime = (iso) => new Date(iso).toLocaleTimeString('en-GB', { hour12: false });

// ── metrics and header ────────────────────────────────────────────────────────────────────────
function renderMetrics() {
  const hot = new Set(['restarts', 'retries', 'failed']);
  $('metrics').replaceChildren(
    ...state.metrics.map((m) =>
      h('div', { class: `metric${hot.has(m.name) && m.value > 0 ? ' hot' : ''}`, 'data-metric': m.name },
        h('div', { class: 'v' }, m.name === 'costUsd' ? fmtCost(m.value) : fmtInt(m.value)),
        h('div', { class: 'l' }, m.label)),
    ),
  );
}

function renderHealth() {
  const report = state.health;
  const p = $('health-pill');
  if (report === undefined) {
    p.textContent = 'health: n/a';
    $('health-empty').hidden = false;
    return;
  }
  p.className = `pill s-${report.status}`;
  p.textContent = `${report.status} · ${report.kernel}`;
  $('health-empty').hidden = true;
  $('health').replaceChildren(
    ...Object.values(report.checks).map((c) =>
      h('li', { 'data-check': c.name }, pill(c.status), h('span', { class: 'mono' }, c.name),
        c.critical ? h('small', null, 'critical') : null,
        h('div', { class: 'sub' }, [c.kind, c.message, c.latencyMs !== undefined ? `${Math.round(c.latencyMs)} ms` : null].filter(Boolean).join(' · '))),
    ),
  );
}

// ── supervision tree ──────────────────────────────────────────────────────────────────────────
function treeItem(node, path) {
  const key = `${path}/${node.id}`;
  const before = state.restartsSeen.get(key);
  state.restartsSeen.set(key, node.restartCount);
  const flash = before !== undefined && node.restartCount > before;
  const label = h('div', { class: 'node', 'data-node': node.id },
    h('span', { class: 'id' }, node.id),
    pill(node.state),
    node.restartCount > 0
      ? h('span', { class: `restarts${flash ? ' flash' : ''}`, title: node.lastRestartAt ? `last restart ${clockTime(node.lastRestartAt)}` : '' },
          `↻ ${node.restartCount} restart${node.restartCount === 1 ? '' : 's'}`)
      : null);
  const kids = node.children ?? [];
  if (node.type !== 'supervisor' || kids.length === 0) return h('li', { class: node.type === 'supervisor' ? 'sup' : 'wrk' }, label);
  // Big trees (thousands of actors) fold; restarted children stay visible.
  const shown = kids.length > 40 ? kids.filter((k) => k.restartCount > 0 || k.type === 'supervisor').slice(0, 40) : kids;
  const list = h('ul', null, shown.map((k) => treeItem(k, key)));
  const folded = kids.length - shown.length;
  return h('li', { class: 'sup' }, label, list, folded > 0 ? h('div', { class: 'empty' }, `…and ${folded} more children`) : null);
}

function renderTree() {
  $('tree-empty').hidden = state.tree.length > 0;
  $('tree').replaceChildren(...state.tree.map((n) => treeItem(n, '')));
}

// ── agents ────────────────────────────────────────────────────────────────────────────────────
function renderAgents() {
  const counts = new Map();
  for (const r of state.runs.values()) {
    const c = counts.get(r.agent) ?? { runs: 0, active: 0 };
    c.runs++;
    if (ACTIVE.has(r.status)) c.active++;
    counts.set(r.agent, c);
  }
  $('agents-empty').hidden = state.agents.length > 0;
  $('agents').replaceChildren(
    ...state.agents.map((a) => {
      const c = counts.get(a.name) ?? { runs: 0, active: 0 };
      return h('li', { 'data-agent': a.name }, h('strong', null, a.name),
        c.active > 0 ? pill('running') : null,
        h('span', { class: 'empty' }, `${c.runs} run${c.runs === 1 ? '' : 's'}`),
        h('div', { class: 'sub' }, `${a.provider} · ${a.model}${a.tools.length ? ` · tools ${a.tools.join(', ')}` : ''}`));
    }),
  );
}

// ── runs ──────────────────────────────────────────────────────────────────────────────────────
function orderedRuns() {
  // Parents first (newest on top), each followed by its sub-runs in start order.
  const all = [...state.runs.values()];
  const byParent = new Map();
  for (const r of all) {
    if (r.parentRunId && state.runs.has(r.parentRunId)) {
      const list = byParent.get(r.parentRunId) ?? [];
      list.push(r);
      byParent.set(r.parentRunId, list);
    }
  }
  const roots = all.filter((r) => !r.parentRunId || !state.runs.has(r.parentRunId)).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  const out = [];
  const walk = (r, depth) => {
    out.push([r, depth]);
    for (const c of (byParent.get(r.runId) ?? []).sort((a, b) => a.startedAt.localeCompare(b.startedAt))) if (depth < 8) walk(c, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return out;
}

function renderRuns() {
  const rows = orderedRuns().map(([r, depth]) =>
    h('tr', { class: `${depth > 0 ? 'sub' : ''}${state.selected === r.runId ? ' selected' : ''}`, style: depth > 0 ? `--depth:${depth}` : undefined, 'data-run': r.runId, 'data-status': r.status, onclick: () => select(r.runId) },
      h('td', { class: 'id' }, h('code', { title: r.runId }, runLabel(r))),
      h('td', null, r.agent),
      h('td', null, pill(r.status), r.pendingApprovals > 0 ? h('span', { class: 'pill s-suspended', title: 'waiting for approval' }, 'approval') : null),
      h('td', { class: 'num' }, fmtInt(r.usage.turns)),
      h('td', { class: 'num' }, fmtInt(r.usage.toolCalls)),
      h('td', { class: 'num' }, fmtInt(r.usage.totalTokens)),
      h('td', { class: 'num' }, fmtCost(r.usage.costUsd)),
      h('td', { class: 'num' }, fmtDuration(runMs(r))),
      h('td', { class: 'input', title: r.input ?? '' }, r.error ? `${r.error.code}: ${r.error.message}` : (r.input ?? ''))),
  );
  $('runs').tBodies[0].replaceChildren(...rows);
  $('runs-empty').hidden = rows.length > 0;
  const active = [...state.runs.values()].filter((r) => ACTIVE.has(r.status)).length;
  $('runs-count').textContent = state.runs.size ? `${state.runs.size} total · ${active} in flight` : '';
}

// ── approvals ─────────────────────────────────────────────────────────────────────────────────
async function decide(a, decision, buttons) {
  for (const b of buttons) b.disabled = true;
  const res = await fetch(`${API}/runs/${encodeURIComponent(a.runId)}/approvals/${encodeURIComponent(a.callId)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ decision }),
  });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    alertLine(`approval failed: ${body.error?.code ?? res.status} ${body.error?.message ?? ''}`);
    for (const b of buttons) b.disabled = false;
    return;
  }
  state.approvals = state.approvals.filter((x) => !(x.runId === a.runId && x.callId === a.callId));
  renderApprovals();
}

function renderApprovals() {
  $('approvals').hidden = state.approvals.length === 0;
  $('approval-list').replaceChildren(
    ...state.approvals.map((a) => {
      const allow = h('button', { class: 'btn allow', type: 'button', 'data-decision': 'allow' }, 'Allow');
      const deny = h('button', { class: 'btn deny', type: 'button', 'data-decision': 'deny' }, 'Deny');
      allow.addEventListener('click', () => decide(a, 'allow', [allow, deny]));
      deny.addEventListener('click', () => decide(a, 'deny', [allow, deny]));
      return h('div', { class: 'approval', 'data-approval': `${a.runId}/${a.callId}`, 'data-run-id': a.runId, 'data-call-id': a.callId },
        h('div', { class: 'what' },
          h('strong', null, a.agent), ' wants to call ', h('code', null, a.tool ?? '(tool)'),
          ' in run ', h('a', { href: `#run=${encodeURIComponent(a.runId)}` }, shortId(a.runId)),
          h('span', { class: 'empty' }, ` · waiting since ${clockTime(a.since)}`),
          a.input !== undefined ? h('pre', null, JSON.stringify(a.input, null, 1)) : null),
        allow, deny);
    }),
  );
}

function alertLine(text) {
  const conn = $('conn');
  conn.textContent = text;
  conn.className = 'conn down';
}

// ── run detail ────────────────────────────────────────────────────────────────────────────────
const STEP_LABEL = {
  'run.started': 'started',
  'model.requested': 'model asked',
  'model.responded': 'model answered',
  'tool.called': 'tool call',
  'tool.returned': 'tool result',
  'run.suspended': 'suspended',
  'run.resumed': 'resumed',
  'run.completed': 'completed',
  'run.failed': 'failed',
  'run.cancelled': 'cancelled',
  'run.interrupted': 'interrupted',
  step: 'step',
};

function select(runId) {
  if (location.hash !== `#run=${encodeURIComponent(runId)}`) location.hash = `run=${encodeURIComponent(runId)}`;
  else loadDetail();
}

let detailSeq = 0;
async function loadDetail() {
  const m = /^#run=(.+)$/.exec(location.hash);
  state.selected = m ? decodeURIComponent(m[1]) : undefined;
  renderRuns();
  if (state.selected === undefined) {
    $('detail').hidden = true;
    return;
  }
  const mine = ++detailSeq;
  const res = await fetch(`${API}/runs/${encodeURIComponent(state.selected)}`);
  if (mine !== detailSeq) return;
  if (!res.ok) {
    $('detail').hidden = false;
    $('detail-id').textContent = state.selected;
    $('detail-meta').replaceChildren(h('dt', null, 'error'), h('dd', null, `run not found (${res.status})`));
    $('steps').replaceChildren();
    return;
  }
  renderDetail(await res.json());
}

function renderDetail({ summary: s, steps, children }) {
  $('detail').hidden = false;
  $('detail-id').textContent = s.runId;
  const meta = [
    ['agent', s.agent],
    ['status', pill(s.status)],
    s.parentRunId ? ['parent', h('a', { href: `#run=${encodeURIComponent(s.parentRunId)}` }, s.parentRunId)] : null,
    ['usage', `${fmtInt(s.usage.turns)} turns · ${fmtInt(s.usage.toolCalls)} tool calls · ${fmtInt(s.usage.inputTokens)} in / ${fmtInt(s.usage.outputTokens)} out tokens · ${fmtCost(s.usage.costUsd)}`],
    ['time', `${clockTime(s.startedAt)} · ${fmtDuration(runMs(s))}`],
    s.input ? ['input', s.input] : null,
    s.output ? ['output', s.output] : null,
    s.error ? ['error', `${s.error.code}: ${s.error.message}`] : null,
  ].filter(Boolean);
  $('detail-meta').replaceChildren(...meta.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
  // Sub-runs are listed under the tool call that delegated to them (agent.<name>), in order.
  const pendingChildren = new Map();
  for (const c of children) {
    const list = pendingChildren.get(c.agent) ?? [];
    list.push(c);
    pendingChildren.set(c.agent, list);
  }
  const items = [];
  for (const st of steps) {
    // A request is followed by its answer (or the run's end): the answer says all the row would.
    if (st.kind === 'model.requested') continue;
    const isTool = st.kind.startsWith('tool.');
    const cls = [isTool ? 'tool' : '', st.error || st.kind === 'run.failed' ? 'err' : ''].join(' ');
    items.push(h('li', { class: cls, 'data-step': st.kind },
      h('span', { class: 't' }, st.turn !== undefined ? `turn ${st.turn + 1}` : clockTime(st.time)),
      h('span', { class: 'k' }, STEP_LABEL[st.kind] ?? st.kind, st.tool ? ' ' : '', st.tool ? h('code', null, st.tool) : null),
      h('span', { class: 'x' }, st.error ? `${st.error.code}: ${st.error.message}` : (st.text ?? ''))));
    if (st.kind === 'tool.called' && st.tool && st.tool.startsWith('agent.')) {
      const list = pendingChildren.get(st.tool.slice('agent.'.length));
      const child = list?.shift();
      if (child) items.push(childItem(child));
    }
  }
  for (const list of pendingChildren.values()) for (const child of list) items.push(childItem(child));
  $('steps').replaceChildren(...items);
}

function childItem(c) {
  return h('li', { class: 'tool child', 'data-child': c.runId },
    h('span', { class: 't' }, 'sub-run'),
    h('span', { class: 'k' }, h('a', { href: `#run=${encodeURIComponent(c.runId)}` }, c.agent)),
    h('span', { class: 'x' }, pill(c.status), ` ${fmtInt(c.usage.turns)} turns · ${fmtInt(c.usage.toolCalls)} tool calls · ${fmtInt(c.usage.totalTokens)} tokens · ${fmtDuration(runMs(c))}`));
}

// ── events ────────────────────────────────────────────────────────────────────────────────────
function eventClass(type) {
  if (/failed|denied|crash|dead_letter/.test(type)) return 'e-fail';
  if (/restarted/.test(type)) return 'e-restart';
  if (/retry/.test(type)) return 'e-retry';
  if (/completed|finished/.test(type)) return 'e-done';
  return '';
}

function renderEvents() {
  const filter = $('event-filter').value.trim().toLowerCase();
  const rows = [];
  for (let i = state.events.length - 1; i >= 0 && rows.length < MAX_EVENT_ROWS; i--) {
    const e = state.events[i];
    if (filter && !`${e.type} ${e.source} ${e.correlationId ?? ''} ${e.subject ?? ''}`.toLowerCase().includes(filter)) continue;
    rows.push(h('tr', { class: eventClass(e.type) },
      h('td', { class: 'seq' }, e.sequence),
      h('td', { class: 'time' }, clockTime(e.time)),
      h('td', { class: 'type' }, e.type),
      h('td', { class: 'src' }, e.source),
      h('td', { class: 'data', title: e.summary }, e.summary)));
  }
  $('events').tBodies[0].replaceChildren(...rows);
}

// ── live feed ─────────────────────────────────────────────────────────────────────────────────
let renderQueued = false;
function scheduleRender(parts) {
  for (const p of parts) pendingParts.add(p);
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    const parts = new Set(pendingParts);
    pendingParts.clear();
    if (parts.has('metrics')) renderMetrics();
    if (parts.has('health')) renderHealth();
    if (parts.has('tree')) renderTree();
    if (parts.has('runs')) {
      renderRuns();
      renderAgents();
    }
    if (parts.has('approvals')) renderApprovals();
    if (parts.has('events')) renderEvents();
  });
}
const pendingParts = new Set();

function applyUpdate(u) {
  const parts = ['metrics'];
  let selectedChanged = false;
  if (u.runs.length > 0) {
    for (const r of u.runs) {
      state.runs.set(r.runId, r);
      if (r.runId === state.selected || r.parentRunId === state.selected) selectedChanged = true;
    }
    parts.push('runs');
  }
  if (u.approvals) {
    state.approvals = u.approvals;
    parts.push('approvals');
  }
  if (u.tree) {
    state.tree = u.tree;
    parts.push('tree');
  }
  if (u.health) {
    state.health = u.health;
    parts.push('health');
  }
  state.metrics = u.metrics;
  // A page that (re)connects may be sent events it already has: keep each sequence once.
  const fresh = u.events.filter((e) => e.sequence > lastSequence());
  if (fresh.length > 0) {
    state.events.push(...fresh);
    if (state.events.length > 2000) state.events.splice(0, state.events.length - 2000);
    parts.push('events');
  }
  scheduleRender(parts);
  if (selectedChanged) void loadDetail();
}

const lastSequence = () => state.events.at(-1)?.sequence ?? 0;

function connect() {
  const source = new EventSource(`${API}/stream?after=${lastSequence()}`);
  source.addEventListener('open', () => {
    $('conn').textContent = 'live';
    $('conn').className = 'conn live';
  });
  source.addEventListener('error', () => {
    // The server ends each stream after a while on purpose; EventSource reconnects by itself.
    if (source.readyState === EventSource.CLOSED) {
      $('conn').textContent = 'disconnected';
      $('conn').className = 'conn down';
      setTimeout(connect, 2000);
    }
  });
  source.addEventListener('update', (m) => applyUpdate(JSON.parse(m.data)));
}

async function boot() {
  const [overview, agents, events] = await Promise.all([
    fetch(`${API}/overview`).then((r) => r.json()),
    fetch(`${API}/agents`).then((r) => r.json()),
    fetch(`${API}/events?limit=300`).then((r) => r.json()),
  ]);
  document.title = overview.title;
  $('title').textContent = overview.title;
  const links = [];
  if (overview.links.healthz) links.push(h('a', { href: overview.links.healthz }, '/healthz'));
  if (overview.links.metrics) links.push(h('a', { href: overview.links.metrics }, '/metrics'));
  $('links').replaceChildren(...links);
  state.agents = agents;
  state.events = events;
  renderEvents();
  $('event-filter').addEventListener('input', renderEvents);
  $('detail-close').addEventListener('click', () => {
    history.replaceState(null, '', location.pathname);
    void loadDetail();
  });
  window.addEventListener('hashchange', () => void loadDetail());
  // Durations of runs in flight tick every second.
  setInterval(() => {
    if ([...state.runs.values()].some((r) => ACTIVE.has(r.status))) scheduleRender(['runs']);
  }, 1000);
  connect();
  void loadDetail();
}

boot().catch((error) => alertLine(`could not load the dashboard: ${error.message}`));
