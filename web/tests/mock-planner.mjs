// A stand-in for the planner endpoints, for working on the planner UI before the service has
// them: answers the planner contract (see src/planner.js) from memory and passes every other
// request to a real `wangge serve`. Not used by the test suite.
//
//   wangge partition fixtures/kangle --micro --out /tmp/grids.geojson
//   node web/tests/mock-planner.mjs http://127.0.0.1:8099 8098 TOKEN /tmp/grids.geojson
//   node web/tests/e2e.mjs http://127.0.0.1:8098 TOKEN

import http from 'node:http';
import { readFileSync } from 'node:fs';

const [upstream, port, token, gridsFile] = process.argv.slice(2);
const up = new URL(upstream);
const layer = JSON.parse(readFileSync(gridsFile, 'utf8'));
const grids = { type: 'FeatureCollection', features: layer.features };
const now = () => new Date().toISOString();
const versions = [{ number: 1, published_at: now(), note: 'first', grids: grids.features.length, current: true, rolled_back_from: null }];
const drafts = new Map();
const staff = new Map();
let nextDraft = 1;

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'Content-Type': type });
  res.end(body === undefined ? '' : JSON.stringify(body));
}
const problem = (res, status, title, detail) => send(res, status, { type: 'about:blank', title, status, detail }, 'application/problem+json');
const authed = (req) => req.headers.authorization === `Bearer ${token}`;

/** A draft: the layer with one grid pushed over the bounds and one under, for the colours. */
function makeDraft(dataset, origin) {
  const fc = structuredClone(grids);
  const basic = fc.features.filter((f) => f.properties.level === 'grid' && f.properties.kind === 'basic');
  if (basic[0]) basic[0].properties.population = 2350;
  if (basic[1]) basic[1].properties.population = 1210;
  const id = String(nextDraft++);
  const draft = { id, dataset, origin, grids: fc.features.length };
  const report = { bounds: { min: 1500, max: 2000 }, grids: basic.length, in_bounds: basic.length - 2, residents: 9241, compactness: { mean: 0.61, min: 0.42 }, warnings: [] };
  drafts.set(id, { draft, report, fc });
  return { draft, report };
}

const diff = (fc) => ({
  created: [], retired: [],
  changed: fc.features.filter((f) => f.properties.level === 'grid').slice(0, 2).map((f) => ({ code: f.properties.code })),
  unchanged: 3,
  moved_buildings: [{ building: 'KL-B0001', from: grids.features[0].properties.code, to: grids.features[1].properties.code }],
  split: [], merged: [], lineage: [],
});

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  const body = await new Promise((r) => { let b = ''; req.on('data', (c) => { b += c; }); req.on('end', () => r(b)); });
  const m = (re) => p.match(re);
  const needsAuth = p === '/v1/auth' || p.startsWith('/v1/datasets') || p.startsWith('/v1/drafts') || (req.method !== 'GET' && p.startsWith('/v1/versions'));
  if (needsAuth && !authed(req)) return problem(res, 401, 'Unauthorized', 'a planner token is needed: Authorization: Bearer TOKEN');
  if (p === '/v1/auth') return send(res, 204);
  if (p === '/healthz') return send(res, 200, { status: 'ok', version: versions.find((v) => v.current).number });
  if (p === '/v1/datasets') return send(res, 200, { datasets: [{ id: '1', source: 'fixtures/kangle', communities: 1, buildings: 188, resources: 22, created_at: now() }] });
  let g;
  if ((g = m(/^\/v1\/datasets\/([^/]+)\/(partition|repartition)$/)) && req.method === 'POST') return send(res, 201, makeDraft(g[1], g[2]));
  if (p === '/v1/drafts') return send(res, 200, { drafts: [...drafts.values()].map((d) => d.draft) });
  if ((g = m(/^\/v1\/drafts\/([^/]+)(\/\w+)?$/))) {
    const d = drafts.get(g[1]);
    if (!d) return problem(res, 404, 'Not Found', `no draft ${g[1]}`);
    if (!g[2]) return send(res, 200, { draft: d.draft, report: d.report });
    if (g[2] === '/grids') return send(res, 200, d.fc);
    if (g[2] === '/diff') return send(res, 200, diff(d.fc));
    if (g[2] === '/validate') {
      const f = d.fc.features[0];
      return send(res, 200, { report: { defects: [{ kind: 'gap', codes: [f.properties.code] }] },
        defects: { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: f.geometry, properties: { kind: 'gap', codes: [f.properties.code], area_m2: 120.5 } }] } });
    }
    if (g[2] === '/publish') {
      const note = JSON.parse(body || '{}').note;
      if (!note) return problem(res, 400, 'Bad Request', 'a note is needed');
      for (const v of versions) v.current = false;
      const v = { number: versions.length + 1, published_at: now(), note, grids: d.draft.grids, current: true, rolled_back_from: null };
      versions.push(v);
      drafts.delete(g[1]);
      return send(res, 201, { version: v });
    }
  }
  if ((g = m(/^\/v1\/grids\/([^/]+)\/staff$/))) {
    if (req.method === 'PUT') {
      if (!authed(req)) return problem(res, 401, 'Unauthorized', 'a planner token is needed');
      staff.set(g[1], JSON.parse(body));
      return send(res, 204);
    }
    return send(res, 200, staff.get(g[1]) || []);
  }
  if (p === '/v1/versions') return send(res, 200, { versions });
  if ((g = m(/^\/v1\/versions\/(\d+)\/grids$/))) return send(res, 200, grids);
  if ((g = m(/^\/v1\/versions\/(\d+)\/diff\/(\d+)$/))) return send(res, 200, diff(grids));
  if ((g = m(/^\/v1\/versions\/(\d+)\/rollback$/)) && req.method === 'POST') {
    for (const v of versions) v.current = false;
    const v = { number: versions.length + 1, published_at: now(), note: `rollback to ${g[1]}`, grids: grids.features.length, current: true, rolled_back_from: Number(g[1]) };
    versions.push(v);
    return send(res, 201, { version: v });
  }
  // Everything else from the real service, with this server's Host so its URLs point here.
  const fwd = http.request({ host: up.hostname, port: up.port, path: req.url, method: req.method, headers: { ...req.headers, 'accept-encoding': 'identity' } }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  fwd.on('error', (e) => problem(res, 502, 'Bad Gateway', e.message));
  fwd.end(body);
});
server.listen(Number(port), '127.0.0.1', () => console.log(`mock planner on http://127.0.0.1:${server.address().port}, passing the rest to ${upstream}`));
