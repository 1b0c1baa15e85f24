// The demo page: a client from /config.json ({url, clientKey}, served by demo/server.mjs) or
// the query (?url=…&key=…), a context picked in the form, every flag's value and reason,
// updated live. window.demo exposes the client for the browser tests.
import { createClient } from '/src/index.js';

const $ = (id) => document.getElementById(id);
const log = (s) => ($('log').textContent = `${new Date().toISOString().slice(11, 23)} ${s}\n` + $('log').textContent.slice(0, 4000));

async function config() {
  const q = new URLSearchParams(location.search);
  if (q.get('url') && q.get('key')) return { url: q.get('url'), clientKey: q.get('key') };
  const r = await fetch('/config.json', { cache: 'no-store' });
  return r.json();
}

function context() {
  const f = new FormData($('ctx'));
  const beta = f.get('beta') === 'on';
  // The checkbox feeds both names in use: `beta` (the tests' flags) and `betaOptIn` (core/testdata/example.json's).
  return { targetingKey: f.get('targetingKey'), plan: f.get('plan'), country: f.get('country'), email: f.get('email'), appVersion: f.get('appVersion'), platform: 'web', beta, betaOptIn: beta };
}

let previous = {};
function render(client, changed = []) {
  const s = client.status;
  $('status').textContent = s;
  $('status').dataset.status = s;
  $('version').textContent = client.version >= 0 ? `version ${client.version}` : '';
  $('reason').textContent = client.statusReason;
  const t0 = performance.now();
  const all = client.allDetails();
  const dt = performance.now() - t0;
  const keys = Object.keys(all).sort();
  const rows = keys.map((k) => {
    const d = all[k];
    const tr = document.createElement('tr');
    tr.dataset.key = k;
    tr.dataset.value = d.valueJSON;
    tr.dataset.reason = d.reason;
    for (const [cls, text] of [['key', k], ['value', d.valueJSON], ['reason', d.reason + (d.errorCode ? ' ' + d.errorCode : '')], ['variation', String(d.variation)], ['rule', d.ruleId ?? '']]) {
      const td = document.createElement('td');
      td.className = cls;
      td.textContent = text;
      tr.appendChild(td);
    }
    if (changed.includes(k) || (previous[k] !== undefined && previous[k] !== d.valueJSON)) tr.classList.add('flash');
    return tr;
  });
  previous = Object.fromEntries(keys.map((k) => [k, all[k].valueJSON]));
  $('flags').replaceChildren(...rows);
  // Browsers coarsen performance.now() (0.1 ms without cross-origin isolation).
  $('timing').textContent = `${keys.length} flags evaluated in ${dt < 0.1 ? 'under 0.1' : dt.toFixed(1)} ms (all, with details)`;
}

const cfg = await config();
const t0 = performance.now();
const client = await createClient({ ...cfg, context: context(), backoff: { min: 500, max: 2000 } });
log(`client ${client.status} in ${(performance.now() - t0).toFixed(1)} ms (module compiled, instantiated, snapshot loaded)`);
client.on('change', (e) => {
  log(`change → version ${e.version}: ${e.keys.join(', ') || '(nothing visible)'}`);
  render(client, e.keys);
});
client.on('ready', () => (log('ready'), render(client)));
client.on('stale', (e) => (log('stale: ' + e.reason), render(client)));
client.on('error', (e) => log('error: ' + e.message));
$('ctx').addEventListener('input', () => {
  client.setContext(context());
  render(client);
});
render(client);
window.demo = { client, render: () => render(client) };
document.body.dataset.loaded = 'true';
