// End-to-end test of the web map in headless Chromium (Debian's /usr/bin/chromium, WebGL through
// SwiftShader), driven by playwright-core against a running `wangge serve` with the Kangle fixture.
//
//   node web/tests/e2e.mjs http://127.0.0.1:PORT [TOKEN]
//
// Checks: no console errors; no request leaves the server (all are routed, any other host is
// aborted and recorded); a grid's interior pixel has the style's fill for that grid, and
// neighbouring grids are drawn in different colours (on Kangle and, with WANGGE_E2E_OSM set to a
// server of the Helsinki import, on a real OpenStreetMap city centre); road names, compound
// names and building numbers at their zooms (on Kangle and, with WANGGE_E2E_STREET set to a
// server of Zhongjing, on a street of nine communities, where a grid number shown twice must
// name two communities); an address
// search, a map click on a clinic and "locate me" show the right answers; English switch; the
// phone layout; and, when the service has the planner endpoints (GET /v1/auth is not 404), the
// planner flow: refused with a wrong token, re-partition → validate → publish with the token,
// the map's tiles reloaded; a grid's workers edited; a dataset uploaded (a broken one refused
// with its problems listed); and the planner on a phone (re-partition and validate in the sheet). Screenshots go to out/screenshots/ (or $SCREENSHOTS).
// Env: CHROMIUM (default /usr/bin/chromium).

import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const base = (process.argv[2] || '').replace(/\/$/, '');
const token = process.argv[3] || process.env.WANGGE_TOKEN || '';
if (!base) {
  console.error('usage: node web/tests/e2e.mjs http://127.0.0.1:PORT [TOKEN]');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const shots = resolve(process.env.SCREENSHOTS || join(here, '../../out/screenshots'));
mkdirSync(shots, { recursive: true });
const origin = new URL(base).origin;

let passed = 0;
let failed = 0;
const failures = [];
async function check(name, f) {
  const t0 = Date.now();
  try {
    await f();
    passed += 1;
    console.log(`ok - ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed += 1;
    failures.push(name);
    console.log(`not ok - ${name}\n  ${String(e?.stack || e).split('\n').join('\n  ')}`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
async function json(path, opts = {}) {
  const res = await fetch(base + path, opts);
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text();
  return { status: res.status, body, type: res.headers.get('content-type') || '' };
}

// ---- what the answers should be, from the API itself --------------------------------------------
const ADDRESS = '嘉禾公寓3号楼';
const addr = await json(`/v1/lookup?address=${encodeURIComponent(ADDRESS)}`);
assert(addr.status === 200, `address lookup: ${addr.status} ${JSON.stringify(addr.body)}`);
const cand = addr.body.candidates[0];
const expectedCode = cand.grid.code;
const [alon, alat] = cand.location;
const clinic = (await json(`/v1/resources/nearest?lon=${alon}&lat=${alat}&kind=clinic&limit=1`)).body.resources[0];
assert(clinic, 'a clinic in the fixture');
// A second place, in another grid, for "locate me".
const other = (await json(`/v1/lookup?address=${encodeURIComponent('康乐新村1号楼')}`)).body?.candidates?.[0];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--enable-unsafe-swiftshader'],
});

/** A page on a fresh context with every request routed: local ones go on, others are refused. */
async function open(contextOptions = {}, at = base) {
  const origin = new URL(at).origin;
  const context = await browser.newContext({ locale: 'zh-CN', ...contextOptions });
  const foreign = [];
  const errors = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('data:') || url.startsWith('blob:') || new URL(url).origin === origin) return route.continue();
    foreign.push(url);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()} @ ${m.location()?.url || ''}`); });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  // MapLibre cancels tile loads the view no longer needs (the bottom sheet opening, a zoom):
  // an aborted tile request is the map working, not a failure.
  const cancelledTile = (r) => /\/tiles\//.test(r.url()) && /ERR_ABORTED/.test(r.failure()?.errorText || '');
  page.on('requestfailed', (r) => { if (new URL(r.url()).origin === origin && !cancelledTile(r)) errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`); });
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`); });
  await page.goto(`${at}/`, { waitUntil: 'load' });
  await page.waitForFunction(() => window.wangge?.ready === true, null, { timeout: 90_000 });
  return { context, page, foreign, errors };
}

// A script for `settle`: hides every layer but the background and the grid fill, so a canvas
// pixel is the grid's colour; the visibilities are kept in `map.__saved` to restore after.
const ONLY_GRID_FILL = `
    map.__saved = map.getStyle().layers.map((l) => [l.id, map.getLayoutProperty(l.id, 'visibility') || 'visible']);
    for (const [id] of map.__saved) if (id !== 'background' && id !== 'grid-fill') map.setLayoutProperty(id, 'visibility', 'none');`;

/** Waits for the map to finish drawing after `f` (run in the page) moved it. */
async function settle(page, f, arg) {
  await page.evaluate(async ([src, a]) => {
    const map = window.wangge.map;
    const idle = new Promise((r) => map.once('idle', r));
    // eslint-disable-next-line no-new-func
    await (new Function('map', 'arg', src))(map, a);
    map.triggerRepaint();
    // A map that never settles (tiles still coming on a loaded machine) must not hang the test.
    await Promise.race([idle, new Promise((r) => setTimeout(r, 20_000))]);
  }, [f, arg]);
}

const desktop = await open({ viewport: { width: 1366, height: 860 }, deviceScaleFactor: 1, permissions: ['geolocation'], geolocation: { longitude: alon, latitude: alat } });
const { page } = desktop;

await check('the page and the style come only from this server', async () => {
  await page.screenshot({ path: join(shots, 'desktop-start.png') });
  const style = (await json('/style.json')).body;
  const urls = JSON.stringify(style).match(/https?:\/\/[^"{]+/g) || [];
  assert(urls.length > 0, 'the style has absolute URLs');
  for (const u of urls) assert(u.startsWith(origin), `the style points away: ${u}`);
  const html = await page.content();
  for (const u of html.match(/(src|href)="[^"]+"/g) || []) assert(!/https?:/.test(u) || u.includes(origin), `page references ${u}`);
  // `/` is shared with the OGC API landing page: browsers (Accept: text/html) get the map,
  // JSON clients the landing page.
  const res = await fetch(`${base}/`, { headers: { accept: 'text/html,application/xhtml+xml' } });
  assert(res.headers.get('content-type').startsWith('text/html'), 'index is HTML');
  const landing = await fetch(`${base}/`, { headers: { accept: 'application/json' } });
  assert(landing.headers.get('content-type').startsWith('application/json'), 'JSON clients get the OGC landing page');
  assert((res.headers.get('content-security-policy') || '').includes("default-src 'self'"), 'index has a same-origin CSP');
  const js = await fetch(`${base}/app/vendor/maplibre-gl.js?v=5.24.1`);
  assert(js.status === 200 && js.headers.get('content-type').startsWith('text/javascript'), 'vendored MapLibre served as JS');
  assert((js.headers.get('cache-control') || '').includes('max-age'), 'vendored files cached');
  const etag = js.headers.get('etag');
  const again = await fetch(`${base}/app/vendor/maplibre-gl.js?v=5.24.1`, { headers: { 'If-None-Match': etag } });
  assert(again.status === 304, `If-None-Match answered ${again.status}`);
  assert((await fetch(`${base}/app/nope.js`)).status === 404, 'unknown web files are 404');
});

await check('the map draws the grids: an interior pixel has the grid’s fill colour', async () => {
  await settle(page, `
    ${ONLY_GRID_FILL}
    map.jumpTo({ center: arg, zoom: 16, padding: { left: 0, right: 0, top: 0, bottom: 0 } });
  `, [alon, alat]);
  const got = await page.evaluate(([lon, lat]) => {
    const map = window.wangge.map;
    const p = map.project([lon, lat]);
    const feats = map.queryRenderedFeatures(p, { layers: ['grid-fill'] });
    const canvas = map.getCanvas();
    const ratio = canvas.width / canvas.clientWidth;
    const c2 = document.createElement('canvas');
    c2.width = canvas.width; c2.height = canvas.height;
    const ctx = c2.getContext('2d');
    ctx.drawImage(canvas, 0, 0);
    const px = Array.from(ctx.getImageData(Math.round(p.x * ratio), Math.round(p.y * ratio), 1, 1).data);
    const fill = map.getPaintProperty('grid-fill', 'fill-color');
    const opacity = map.getPaintProperty('grid-fill', 'fill-opacity');
    const bg = map.getPaintProperty('background', 'background-color');
    for (const [id, v] of map.__saved) map.setLayoutProperty(id, 'visibility', v);
    return { px, code: feats[0]?.properties.code, props: feats[0]?.properties, fill, opacity, bg };
  }, [alon, alat]);
  assert(got.code === expectedCode, `the grid drawn at the address is ${got.code}, the lookup says ${expectedCode}`);
  // The residents' fill is a match on the grid's colour: [match, [get, colour], v1, c1, ..., default].
  assert(got.fill[0] === 'match' && got.fill[1][1] === 'colour', `the resident fill is not by colour: ${JSON.stringify(got.fill)}`);
  const value = got.props.colour;
  let colour = got.fill[got.fill.length - 1];
  for (let i = 2; i + 1 < got.fill.length; i += 2) if (got.fill[i] === value) colour = got.fill[i + 1];
  const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const [f, b] = [rgb(colour), rgb(got.bg)];
  const want = f.map((c, i) => Math.round(c * got.opacity + b[i] * (1 - got.opacity)));
  const off = Math.max(...want.map((c, i) => Math.abs(c - got.px[i])));
  assert(off <= 4, `pixel ${got.px.slice(0, 3)} is not colour ${value}'s fill ${colour} over ${got.bg} (want ${want}, off by ${off})`);
  await settle(page, 'map.triggerRepaint();');
});

/** Pairs of grid codes sharing a border segment (same two vertices) in `server`'s published grids. */
async function neighbourPairs(server) {
  const fc = await (await fetch(`${server}/collections/grids/items?limit=10000`)).json();
  const owner = new Map();
  const pairs = new Set();
  for (const f of fc.features) {
    if (f.properties.level !== 'grid') continue;
    const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
    for (const ring of polys.flat()) {
      for (let i = 0; i + 1 < ring.length; i += 1) {
        const [a, b] = [ring[i].join(','), ring[i + 1].join(',')];
        if (a === b) continue;
        const key = a < b ? `${a}|${b}` : `${b}|${a}`;
        const o = owner.get(key);
        if (o !== undefined && o !== f.id) pairs.add([o, f.id].sort().join(' '));
        else owner.set(key, f.id);
      }
    }
  }
  return [...pairs].map((p) => p.split(' '));
}

/**
 * Neighbouring grids differ in rendered colour: with only the grid fills drawn, the pixels at
 * each grid's label point, compared for every pair of grids sharing a border.
 */
async function checkNeighbourColours(pg, server, shot) {
  const pairs = await neighbourPairs(server);
  assert(pairs.length > 0, 'no neighbouring grids');
  const tj = await (await fetch(`${server}/tiles.json`)).json();
  await settle(pg, `
    ${ONLY_GRID_FILL}
    map.setPadding({ left: 0, right: 0, top: 0, bottom: 0 });
    map.fitBounds([[arg[0], arg[1]], [arg[2], arg[3]]], { animate: false, padding: 20, maxZoom: 15 });
  `, tj.bounds);
  await pg.screenshot({ path: join(shots, shot) });
  const seen = await pg.evaluate(() => {
    const map = window.wangge.map;
    const canvas = map.getCanvas();
    const ratio = canvas.width / canvas.clientWidth;
    const c2 = document.createElement('canvas');
    c2.width = canvas.width; c2.height = canvas.height;
    const ctx = c2.getContext('2d');
    ctx.drawImage(canvas, 0, 0);
    const out = {};
    for (const f of map.querySourceFeatures('wangge', { sourceLayer: 'grid_labels' })) {
      const p = map.project(f.geometry.coordinates);
      const [x, y] = [Math.round(p.x * ratio), Math.round(p.y * ratio)];
      if (x < 2 || y < 2 || x >= c2.width - 2 || y >= c2.height - 2) continue;
      const d = ctx.getImageData(x - 1, y - 1, 3, 3).data;
      const rgb = [0, 1, 2].map((k) => Math.round([0, 1, 2, 3, 4, 5, 6, 7, 8].reduce((s, i) => s + d[i * 4 + k], 0) / 9));
      out[f.properties.code] = rgb;
    }
    for (const [id, v] of map.__saved) map.setLayoutProperty(id, 'visibility', v);
    return out;
  });
  let compared = 0;
  for (const [a, b] of pairs) {
    if (!seen[a] || !seen[b]) continue;
    compared += 1;
    const d = Math.max(...seen[a].map((c, i) => Math.abs(c - seen[b][i])));
    assert(d >= 8, `neighbouring grids ${a} and ${b} look alike: ${seen[a]} and ${seen[b]}`);
  }
  assert(compared >= Math.min(3, pairs.length), `only ${compared} of ${pairs.length} neighbouring pairs were on screen`);
  await settle(pg, 'map.triggerRepaint();');
  return { pairs: pairs.length, compared };
}

await check('neighbouring grids are drawn in different colours (Kangle)', async () => {
  const r = await checkNeighbourColours(page, base, 'desktop-grid-colours.png');
  console.log(`  ${r.compared} of ${r.pairs} neighbouring pairs compared`);
});

await check('an address search shows the right grid code, its workers and nearby services', async () => {
  await page.fill('#q', ADDRESS);
  await page.press('#q', 'Enter');
  const card = page.locator('.grid-card');
  await card.waitFor({ timeout: 20_000 });
  assert(await card.getAttribute('data-grid') === expectedCode, `card shows ${await card.getAttribute('data-grid')}`);
  const code = (await page.locator('.grid-code').innerText()).replace(/\s/g, '');
  assert(code === expectedCode, `code text ${code}`);
  const staff = await page.locator('.staff li').count();
  assert(staff > 0, 'Kangle records grid workers: they are listed');
  assert((await page.locator('a.phone').first().getAttribute('href')).startsWith('tel:'), 'phones are tel: links');
  const near = await page.locator('.near-dist').allInnerTexts();
  assert(near.length === 3 && near.every((t) => /\d+ (米|公里) · 步行约 \d+ 分钟/.test(t)), `nearby distances: ${near}`);
  await settle(page, 'map.triggerRepaint();');
  await page.screenshot({ path: join(shots, 'desktop-address.png') });
});

await check('clicking a clinic on the map shows its name, phone and hours', async () => {
  await settle(page, 'map.jumpTo({ center: arg, zoom: 17 });', clinic.location);
  const pt = await page.evaluate((ll) => { const p = window.wangge.map.project(ll); const r = window.wangge.map.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }, clinic.location);
  await page.mouse.click(pt[0], pt[1]);
  const card = page.locator('.resource-card');
  await card.waitFor({ timeout: 20_000 });
  const name = await page.locator('.resource-name').innerText();
  assert(name === clinic.name, `resource card says ${name}, want ${clinic.name}`);
  const facts = await page.locator('.resource-card .facts').innerText();
  if (clinic.phone) assert(facts.includes(clinic.phone), `phone missing: ${facts}`);
  if (clinic.hours) assert(facts.includes(clinic.hours), `hours missing: ${facts}`);
  await settle(page, 'map.triggerRepaint();');
  await page.screenshot({ path: join(shots, 'desktop-clinic.png') });
});

await check('resource kinds filter from the legend', async () => {
  await page.locator('.legend-kinds button[data-kind="shop"]').click();
  const filter = await page.evaluate(() => window.wangge.map.getFilter('resources'));
  // [all, <the style's own filter>, [in, [get, kind], [literal, kinds]]]
  const kinds = JSON.stringify(filter[filter.length - 1]);
  assert(filter[0] === 'all' && kinds.includes('clinic') && !kinds.includes('"shop"'), `filter ${JSON.stringify(filter)}`);
  await page.locator('.legend-kinds button[data-kind="shop"]').click();
  const [now, base] = await page.evaluate(() => [window.wangge.map.getFilter('resources'), window.wangge.state.resourceFilter]);
  assert(JSON.stringify(now) === JSON.stringify(base), `all kinds again: ${JSON.stringify(now)}`);
});

await check('"locate me" shows the grid at the device’s position', async () => {
  const target = other || cand;
  await desktop.context.setGeolocation({ longitude: target.location[0], latitude: target.location[1] });
  await page.click('#locate');
  await page.waitForFunction((code) => document.querySelector('.grid-card')?.dataset.grid === code, target.grid.code, { timeout: 20_000 });
});

await check('English switch', async () => {
  await page.click('#lang');
  assert(await page.locator('h1').innerText() === 'Community Grid Map', 'title in English');
  assert(await page.evaluate(() => document.documentElement.lang) === 'en', 'html lang');
  assert((await page.locator('.grid-card').innerText()).includes('Grid workers'), 'the card re-rendered in English');
  await settle(page, 'map.triggerRepaint();');
  await page.screenshot({ path: join(shots, 'desktop-english.png') });
  await page.click('#lang');
  assert(await page.locator('h1').innerText() === '网格服务地图', 'back to Chinese');
});

await check('tile URLs accept a cache-busting ?v= (used after a publish)', async () => {
  const tj = (await json('/tiles.json')).body;
  const [w, s, e, n] = tj.bounds;
  const z = 15;
  const x = Math.floor(((w + e) / 2 + 180) / 360 * 2 ** z);
  const lat = ((s + n) / 2) * Math.PI / 180;
  const y = Math.floor((1 - Math.log(Math.tan(lat) + 1 / Math.cos(lat)) / Math.PI) / 2 * 2 ** z);
  const res = await fetch(`${base}/tiles/${z}/${x}/${y}.mvt?v=7`);
  assert(res.status === 200, `tile with ?v= answered ${res.status}`);
});

await check('a community or compound name lists its grids and asks for the building, never "your grid"', async () => {
  const grids = (await json('/collections/grids/items?limit=500')).body.features.map((f) => f.properties);
  for (const [q, level] of [['康乐社区', 'community'], ['嘉禾公寓', 'compound']]) {
    const answer = (await json(`/v1/lookup?address=${encodeURIComponent(q)}`)).body;
    assert(answer.candidates[0].level === level, `${q} answers at ${answer.candidates[0].level}`);
    await page.fill('#q', q);
    await page.press('#q', 'Enter');
    const card = page.locator(`.area-card[data-level="${level}"]`);
    await card.waitFor({ timeout: 20_000 });
    assert(await page.locator('.grid-card').count() === 0, `${q} shows a single grid as yours`);
    const listed = await page.locator('.area-grids li').evaluateAll((n) => n.map((x) => x.dataset.grid));
    const compound = answer.candidates[0].compound;
    const ids = new Set((await json('/collections/buildings/items?limit=500')).body.features
      .filter((b) => level === 'community' || b.properties.compound === compound).map((b) => b.id));
    const want = grids.filter((g) => g.level === 'grid' && g.buildings.some((id) => ids.has(id))).map((g) => g.code).sort();
    assert(JSON.stringify([...listed].sort()) === JSON.stringify(want), `${q} lists ${listed}, want ${want}`);
    assert(/楼/.test(await card.innerText()), `${q}: the card asks for a building number`);
  }
  await page.screenshot({ path: join(shots, 'desktop-vague-community.png') });
  // Back to the building the later checks start from.
  await page.fill('#q', ADDRESS);
  await page.press('#q', 'Enter');
  await page.locator('.grid-card').waitFor({ timeout: 20_000 });
});

// ---- labels -------------------------------------------------------------------------------------

/**
 * Labels at the zooms the style states: road names from z14, compound names from z15, building
 * numbers from z17 (none a zoom earlier), as MapLibre renders them after its collision pass.
 */
async function checkLabelZooms(pg, centre, prefix) {
  const seen = [];
  for (const z of [13, 14, 15, 16, 17]) {
    await settle(pg, 'map.setPadding({ left: 0, right: 0, top: 0, bottom: 0 }); map.jumpTo({ center: arg.c, zoom: arg.z });', { c: centre, z });
    const got = await pg.evaluate(() => {
      const map = window.wangge.map;
      const texts = (id, key) => [...new Set(map.queryRenderedFeatures({ layers: [id] }).map((f) => f.properties[key]))];
      return { road: texts('road-label', 'name'), compound: texts('compound-label', 'name'), building: texts('building-label', 'number') };
    });
    await pg.screenshot({ path: join(shots, `${prefix}-labels-z${z}.png`) });
    seen.push(`z${z}: ${got.road.length} roads, ${got.compound.length} compounds, ${got.building.length} numbers`);
    assert((got.road.length > 0) === (z >= 14), `z${z}: road names ${JSON.stringify(got.road)}`);
    assert((got.compound.length > 0) === (z >= 15), `z${z}: compound names ${JSON.stringify(got.compound)}`);
    assert((got.building.length > 0) === (z >= 17), `z${z}: building numbers ${JSON.stringify(got.building)}`);
    for (const n of got.building) assert(/^[0-9A-Za-z一二三四五六七八九十-]+(号楼|号|栋|幢|座)$/.test(n), `building number ${n}`);
  }
  await settle(pg, 'map.triggerRepaint();');
  return seen;
}

await check('labels: road names from z14, compound names from z15, building numbers from z17 (Kangle)', async () => {
  const seen = await checkLabelZooms(page, [alon, alat], 'desktop');
  console.log(`  ${seen.join('; ')}`);
});

// ---- a street of nine communities (Zhongjing) -----------------------------------------------------
const streetBase = (process.env.WANGGE_E2E_STREET || '').replace(/\/$/, '');
if (streetBase) {
  const street = await open({ viewport: { width: 1366, height: 860 }, deviceScaleFactor: 1 }, streetBase);
  const stj = await (await fetch(`${streetBase}/tiles.json`)).json();
  /** The grid labels MapLibre placed, one per grid, and whether the label's text at this zoom writes the community. */
  const gridLabels = (pg) => pg.evaluate(() => {
    const map = window.wangge.map;
    const z = map.getZoom();
    const field = map.getLayoutProperty('grid-label', 'text-field');
    let branch = field;
    if (Array.isArray(field) && field[0] === 'step') {
      branch = field[2];
      for (let i = 3; i + 1 < field.length; i += 2) if (z >= field[i]) branch = field[i + 1];
    }
    const byCode = new Map(map.queryRenderedFeatures({ layers: ['grid-label'] }).map((f) => [f.properties.code, f.properties]));
    return { z, writesCommunity: JSON.stringify(branch).includes('["get","community"]'), labels: [...byCode.values()] };
  });
  await check('street of nine communities: a grid number shown twice names two communities', async () => {
    const views = [];
    for (const at of ['first view', 13]) {
      if (at !== 'first view') await settle(street.page, 'map.jumpTo({ center: arg.c, zoom: arg.z });', { c: stj.center.slice(0, 2), z: at });
      else await settle(street.page, 'map.triggerRepaint();');
      const got = await gridLabels(street.page);
      await street.page.screenshot({ path: join(shots, `street-grid-labels-${at === 'first view' ? 'first-view' : `z${at}`}.png`) });
      const bySeq = new Map();
      for (const l of got.labels) bySeq.set(l.code.slice(12), [...(bySeq.get(l.code.slice(12)) || []), l]);
      const repeated = [...bySeq].filter(([, ls]) => ls.length > 1);
      assert(repeated.length > 0, `${at} (z${got.z.toFixed(1)}): no grid number shows twice among ${got.labels.length} labels`);
      assert(got.writesCommunity, `${at} (z${got.z.toFixed(1)}): the grid label does not write its community`);
      for (const [seq, ls] of repeated) {
        const names = new Set(ls.map((l) => l.community));
        assert(!names.has(undefined) && names.size === ls.length, `${seq} shown ${ls.length} times, communities ${[...names]}`);
      }
      const firsts = bySeq.get('001') || [];
      views.push(`${at} z${got.z.toFixed(1)}: ${got.labels.length} grid labels, "001" ×${firsts.length} (${firsts.map((l) => l.community).join(' ')})`);
    }
    console.log(`  ${views.join('; ')}`);
  });
  await check('street of nine communities: labels at their zooms', async () => {
    const seen = await checkLabelZooms(street.page, stj.center.slice(0, 2), 'street');
    console.log(`  ${seen.join('; ')}`);
  });
  await check('street of nine communities: no console errors and no request left the server', async () => {
    assert(street.foreign.length === 0, `requests to other hosts: ${street.foreign.join(', ')}`);
    assert(street.errors.length === 0, street.errors.join('\n'));
  });
  await street.context.close();
} else {
  console.log('# WANGGE_E2E_STREET not set: the Zhongjing street checks are skipped');
}

// ---- a real OpenStreetMap city centre (Helsinki) ---------------------------------------------------
const osmBase = (process.env.WANGGE_E2E_OSM || '').replace(/\/$/, '');
if (osmBase) {
  const osm = await open({ viewport: { width: 1366, height: 860 }, deviceScaleFactor: 1 }, osmBase);
  await check('OSM city centre: neighbouring grids are drawn in different colours', async () => {
    const r = await checkNeighbourColours(osm.page, osmBase, 'osm-grid-colours.png');
    console.log(`  ${r.compared} of ${r.pairs} neighbouring pairs compared`);
  });
  const tj = await (await fetch(`${osmBase}/tiles.json`)).json();
  await check('OSM city centre: icons never overlap at z14–16, care before shops, shops from z16', async () => {
    const counts = [];
    for (const z of [14, 15, 16]) {
      await settle(osm.page, 'map.setPadding({ left: 0, right: 0, top: 0, bottom: 0 }); map.jumpTo({ center: arg.c, zoom: arg.z });', { c: tj.center.slice(0, 2), z });
      const icons = await osm.page.evaluate(() => {
        const map = window.wangge.map;
        return map.queryRenderedFeatures({ layers: ['resources'] }).map((f) => {
          const p = map.project(f.geometry.coordinates);
          return { kind: f.properties.kind, id: f.properties.id, x: p.x, y: p.y };
        });
      });
      await osm.page.screenshot({ path: join(shots, `osm-icons-z${z}.png`) });
      // One symbol per resource (a tile edge can repeat one).
      const one = [...new Map(icons.map((i) => [i.id, i])).values()];
      counts.push(`z${z}: ${one.length}`);
      for (let i = 0; i < one.length; i += 1) {
        for (let j = i + 1; j < one.length; j += 1) {
          const [a, b] = [one[i], one[j]];
          assert(Math.abs(a.x - b.x) >= 19 || Math.abs(a.y - b.y) >= 19, `z${z}: ${a.kind} ${a.id} and ${b.kind} ${b.id} overlap at (${a.x | 0}, ${a.y | 0}) / (${b.x | 0}, ${b.y | 0})`);
        }
      }
      if (z < 16) assert(!one.some((i) => i.kind === 'shop' || i.kind === 'supermarket'), `z${z} shows shops`);
      else assert(one.length > 0, 'no icons at z16 in the city centre');
    }
    console.log(`  icons on screen: ${counts.join(', ')}`);
  });
  await check('OSM city centre: the legend lists every kind in the data, in Chinese', async () => {
    const known = ['clinic', 'hospital', 'pharmacy', 'dentist', 'shop', 'supermarket', 'market', 'school', 'kindergarten', 'elderly_care', 'service_center'];
    const want = known.filter((k) => tj.resource_kinds.includes(k));
    if (tj.resource_kinds.some((k) => !known.includes(k))) want.push('other');
    const listed = await osm.page.locator('.legend-kinds button').evaluateAll((n) => n.map((x) => x.dataset.kind));
    assert(JSON.stringify(listed) === JSON.stringify(want), `legend lists ${listed}, the data has ${tj.resource_kinds}`);
    const text = await osm.page.locator('#legend').innerText();
    assert(!/[A-Za-z]/.test(text), `Latin text in the Chinese legend: ${text}`);
  });
  await check('OSM city centre: unnamed resources are named by kind in Chinese, never "shop"', async () => {
    const labels = await osm.page.evaluate(() => {
      const map = window.wangge.map;
      const field = map.getLayoutProperty('resources', 'text-field');
      const names = field[field.length - 1][2];
      const byKind = {};
      for (let i = 2; i + 1 < names.length; i += 2) byKind[names[i]] = names[i + 1];
      return map.queryRenderedFeatures({ layers: ['resources'] }).filter((f) => !f.properties.name)
        .map((f) => byKind[f.properties.kind] ?? names[names.length - 1]);
    });
    assert(labels.length > 0, 'no unnamed resource on screen to check');
    for (const l of labels) assert(!/[A-Za-z]/.test(l), `an unnamed resource is labelled ${l}`);
    // The grid card's nearby services too.
    await osm.page.evaluate((c) => window.wangge.lookupPoint(c[0], c[1]), tj.center);
    await osm.page.locator('.grid-card').waitFor({ timeout: 20_000 });
    const near = await osm.page.locator('.near-name').allInnerTexts();
    assert(!near.some((n) => /^(shop|clinic|pharmacy|supermarket|hospital)$/i.test(n)), `nearby services: ${near}`);
    await settle(osm.page, 'map.triggerRepaint();');
    await osm.page.screenshot({ path: join(shots, 'osm-grid-card.png') });
  });
  await check('OSM city centre: no console errors and no request left the server', async () => {
    assert(osm.foreign.length === 0, `requests to other hosts: ${osm.foreign.join(', ')}`);
    assert(osm.errors.length === 0, osm.errors.join('\n'));
  });
  await osm.context.close();
} else {
  console.log('# WANGGE_E2E_OSM not set: the OSM city-centre checks are skipped');
}

// ---- phone --------------------------------------------------------------------------------------
const phone = await open({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
await check('phone: the panel is a bottom sheet and a search answers in it', async () => {
  const box = await phone.page.locator('#panel').boundingBox();
  assert(box.width >= 389 && box.y + box.height >= 843, `panel at ${JSON.stringify(box)} is not a bottom sheet`);
  await phone.page.screenshot({ path: join(shots, 'phone-start.png') });
  await phone.page.fill('#q', ADDRESS);
  await phone.page.press('#q', 'Enter');
  await phone.page.waitForFunction((code) => document.querySelector('.grid-card')?.dataset.grid === code, expectedCode, { timeout: 20_000 });
  await settle(phone.page, 'map.triggerRepaint();');
  await phone.page.waitForTimeout(400);
  await phone.page.screenshot({ path: join(shots, 'phone-address.png') });
});

for (const [name, s] of [['desktop', desktop], ['phone', phone]]) {
  await check(`${name}: no console errors and no request left the server (residents' flow)`, async () => {
    assert(s.foreign.length === 0, `requests to other hosts: ${s.foreign.join(', ')}`);
    assert(s.errors.length === 0, s.errors.join('\n'));
  });
}


const residentErrors = desktop.errors.length;
// ---- planner ------------------------------------------------------------------------------------
const auth = await json('/v1/auth');
if (auth.status === 404) {
  await check('planner endpoints exist', async () => { throw new Error('GET /v1/auth is 404'); });
} else {
  await check('planner: refused without the token', async () => {
    assert(auth.status === 401 && auth.type.includes('application/problem+json'), `GET /v1/auth without a token: ${auth.status} ${auth.type}`);
    const wrong = await json('/v1/auth', { headers: { Authorization: 'Bearer not-the-token' } });
    assert(wrong.status === 401, `wrong token: ${wrong.status}`);
    const pub = await json('/v1/drafts/1/publish', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"note":"x"}' });
    assert(pub.status === 401, `publish without a token: ${pub.status}`);
    await page.click('#mode-planner');
    await page.locator('#token-dialog[open]').waitFor();
    await page.fill('#token-input', 'not-the-token');
    await page.click('#token-ok');
    await page.waitForFunction(() => document.getElementById('token-error').textContent.length > 0);
    assert(await page.locator('#planner').isHidden(), 'planner panel stays hidden');
    await page.click('#token-cancel');
  });

  await check('planner: re-partition, validate, publish with the token; the map follows', async () => {
    assert(token, 'give the token as the second argument (or WANGGE_TOKEN)');
    const before = (await json('/v1/versions')).body.versions.find((v) => v.current).number;
    await page.click('#mode-planner');
    await page.fill('#token-input', token);
    await page.click('#token-ok');
    await page.locator('#planner').waitFor({ state: 'visible' });
    await page.locator('#plan-dataset').waitFor({ timeout: 20_000 });
    await page.click('#plan-repartition');
    await page.locator('[data-draft]').waitFor({ timeout: 120_000 });
    await page.waitForFunction(() => window.wangge.map.getSource('plan-grids')?._data?.features?.length > 0 || window.wangge.map.querySourceFeatures('plan-grids').length > 0, null, { timeout: 20_000 });
    await page.click('#plan-validate');
    await page.waitForFunction(() => /ok|error/.test(document.getElementById('plan-status').className) && !document.getElementById('plan-status').className.includes('busy'), null, { timeout: 60_000 });
    await page.click('#plan-diff');
    await page.locator('[data-diff]').waitFor({ timeout: 20_000 });
    await settle(page, 'map.triggerRepaint();');
    await page.screenshot({ path: join(shots, 'desktop-planner-draft.png') });
    await page.fill('#plan-note', 'e2e: web map publish');
    await page.click('#plan-publish');
    await page.waitForFunction(() => document.getElementById('plan-status').className.includes('ok') && !document.querySelector('[data-draft]'), null, { timeout: 60_000 });
    const versions = (await json('/v1/versions')).body.versions;
    const now = versions.find((v) => v.current);
    assert(now.number > before && now.note === 'e2e: web map publish', `current version ${JSON.stringify(now)} after publishing over ${before}`);
    // MapLibre applies new tile URLs when the source has reloaded, a moment after setTiles.
    await page.waitForFunction((v) => window.wangge.map.getSource('wangge').tiles.some((t) => t.includes(`?v=${v}`)), now.number, { timeout: 10_000 })
      .catch(() => {});
    const tiles = await page.evaluate(() => window.wangge.map.getSource('wangge').tiles);
    assert(tiles.some((t) => t.includes(`?v=${now.number}`)), `the map's tiles were not reloaded: ${tiles}`);
    const t0 = Date.now();
    while ((await json('/healthz')).body.version !== now.number) {
      assert(Date.now() - t0 < 2000, 'the service did not switch to the published version');
      await new Promise((r) => setTimeout(r, 50));
    }
    await page.locator('#plan-versions li.current[data-version="' + now.number + '"]').waitFor();
    await settle(page, 'map.triggerRepaint();');
    await page.screenshot({ path: join(shots, 'desktop-planner-published.png') });
  });

  await check('planner: edit a grid\'s workers by clicking it on the map', async () => {
    await settle(page, 'map.jumpTo({ center: arg, zoom: 16 });', [alon, alat]);
    const pt = await page.evaluate((ll) => { const p = window.wangge.map.project(ll); const r = window.wangge.map.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }, [alon, alat]);
    await page.mouse.click(pt[0], pt[1]);
    await page.locator(`#plan-staff[data-staff="${expectedCode}"]`).waitFor({ timeout: 20_000 });
    await page.click('#plan-staff-add');
    const row = page.locator('.staff-row').last();
    await row.locator('[name=name]').fill('测试员');
    await row.locator('[name=phone]').fill('13800000000');
    await page.click('#plan-staff-save');
    await page.waitForFunction(() => document.querySelector('#plan-staff .plan-status.ok'), null, { timeout: 20_000 });
    const saved = await json(`/v1/grids/${expectedCode}/staff`);
    assert(saved.status === 200 && JSON.stringify(saved.body).includes('测试员'), `staff after saving: ${saved.status} ${JSON.stringify(saved.body)}`);
    await page.screenshot({ path: join(shots, 'desktop-planner-staff.png') });
  });

  await check('planner: upload a dataset; a broken or GBK one is refused, saying why, and nothing stored', async () => {
    const auth = { headers: { Authorization: `Bearer ${token}` } };
    const count = async () => (await json('/v1/datasets', auth)).body.datasets.length;
    const before = await count();
    const dir = join(here, '../../fixtures/kangle');
    const names = ['boundary.geojson', 'buildings.geojson', 'exclusive.geojson', 'resources.geojson', 'roads.geojson', 'staff.json'];
    const files = names.map((name) => ({ name, mimeType: 'application/json', buffer: readFileSync(join(dir, name)) }));
    const buildings = JSON.parse(readFileSync(join(dir, 'buildings.geojson'), 'utf8'));
    buildings.features[0].properties.population = -3;
    const broken = files.map((f) => (f.name === 'buildings.geojson' ? { ...f, buffer: Buffer.from(JSON.stringify(buildings)) } : f));
    await page.locator('#plan-upload').scrollIntoViewIfNeeded().catch(() => {});
    await page.evaluate(() => { document.querySelector('details.upload').open = true; });
    await page.setInputFiles('#plan-files', broken);
    await page.click('#plan-upload');
    await page.locator('#plan-problems li').first().waitFor({ timeout: 30_000 });
    const problems = await page.locator('#plan-problems li').allTextContents();
    assert(problems.some((p) => p.includes('buildings.geojson features[0]') && p.includes('properties.population')), `problems shown: ${problems.join(' | ')}`);
    assert((await count()) === before, 'a rejected upload stored a dataset');
    await page.screenshot({ path: join(shots, 'desktop-planner-upload-rejected.png') });

    // A GBK-encoded file (as Chinese desktop tools save it) is refused by name, not read as mojibake.
    const gbk = Buffer.concat([Buffer.from('{"type":"FeatureCollection","name":"'), Buffer.from([0xbf, 0xb5, 0xc0, 0xd6]), Buffer.from('","features":[]}')]);
    await page.setInputFiles('#plan-files', files.map((f) => (f.name === 'resources.geojson' ? { ...f, buffer: gbk } : f)));
    await page.click('#plan-upload');
    await page.waitForFunction(() => /not UTF-8/.test(document.getElementById('plan-status').textContent), null, { timeout: 30_000 });
    assert((await page.textContent('#plan-status')).includes('resources.geojson'), await page.textContent('#plan-status'));
    assert((await count()) === before, 'a GBK upload stored a dataset');

    await page.setInputFiles('#plan-files', files);
    await page.click('#plan-upload');
    await page.waitForFunction(() => document.getElementById('plan-status').className.includes('ok') && !document.getElementById('plan-problems'), null, { timeout: 30_000 });
    const after = (await json('/v1/datasets', auth)).body.datasets;
    assert(after.length === before + 1, `datasets after the upload: ${after.length}, before ${before}`);
    const newest = after[after.length - 1];
    assert(newest.source.includes('buildings.geojson'), JSON.stringify(newest));
    assert((await page.inputValue('#plan-dataset')) === String(newest.id), 'the uploaded dataset is selected');
  });

  await check('phone: the planner works in the bottom sheet (sign in, re-partition, validate, report)', async () => {
    const p = phone.page;
    const before = phone.errors.length;
    await p.click('#mode-planner');
    await p.locator('#token-dialog[open]').waitFor();
    const dialog = await p.locator('#token-dialog').boundingBox();
    assert(dialog.x >= 0 && dialog.x + dialog.width <= 390, `the token dialog overflows the screen: ${JSON.stringify(dialog)}`);
    await p.fill('#token-input', token);
    await p.click('#token-ok');
    await p.locator('#planner').waitFor({ state: 'visible' });
    await p.locator('#plan-dataset').waitFor({ timeout: 20_000 });
    const sheet = await p.locator('#panel').boundingBox();
    assert(sheet.width >= 389 && sheet.y + sheet.height >= 843 && sheet.y > 100, `planner panel at ${JSON.stringify(sheet)} is not a bottom sheet`);
    // Nothing wider than the screen: every control reachable without sideways scrolling.
    const overflow = await p.evaluate(() => { const n = document.getElementById('panel'); return n.scrollWidth - n.clientWidth; });
    assert(overflow <= 1, `the planner panel scrolls sideways by ${overflow} px`);
    // The bounds typed are the bounds used, and stay in the fields.
    await p.fill('#plan-min', '1000');
    await p.fill('#plan-max', '1400');
    await p.locator('#plan-repartition').tap();
    await p.locator('[data-draft]').waitFor({ timeout: 120_000 });
    const typed = [await p.inputValue('#plan-min'), await p.inputValue('#plan-max')];
    assert(typed[0] === '1000' && typed[1] === '1400', `the bounds fields read ${typed} after the re-partition`);
    const draftId = await p.locator('[data-draft]').first().getAttribute('data-draft');
    const made = (await json(`/v1/drafts/${draftId}`, { headers: { Authorization: `Bearer ${token}` } })).body;
    assert(made.report?.bounds?.min === 1000 && made.report?.bounds?.max === 1400, `draft ${draftId} was drawn with ${JSON.stringify(made.report?.bounds)}`);
    await p.locator('#plan-validate').tap();
    await p.waitForFunction(() => /ok|error/.test(document.getElementById('plan-status').className) && !document.getElementById('plan-status').className.includes('busy'), null, { timeout: 60_000 });
    await p.locator('details.report').scrollIntoViewIfNeeded();
    const rows = await p.locator('details.report dl.facts .row').count();
    assert(rows >= 5, `the report shows ${rows} rows`);
    for (const id of ['#plan-validate', '#plan-publish', '#plan-note']) {
      await p.locator(id).scrollIntoViewIfNeeded();
      const b = await p.locator(id).boundingBox();
      assert(b && b.x >= 0 && b.x + b.width <= 390 && b.y >= 0 && b.y + b.height <= 844, `${id} is off screen: ${JSON.stringify(b)}`);
    }
    await settle(p, 'map.triggerRepaint();');
    await p.screenshot({ path: join(shots, 'phone-planner-draft.png') });
    // Smaller grids mean new ones with nobody working there yet: publishing names them and waits
    // for the planner to acknowledge it; the note keeps it.
    const unstaffed = (await json(`/v1/drafts/${draftId}/publish`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ note: 'probe' }) })).body;
    assert(Array.isArray(unstaffed.unstaffed) && unstaffed.unstaffed.length > 0, `the 1,000–1,400 draft has every grid staffed? ${JSON.stringify(unstaffed)}`);
    await p.fill('#plan-note', 'e2e: smaller grids');
    await p.locator('#plan-publish').tap();
    await p.locator('#plan-unstaffed').waitFor({ timeout: 60_000 });
    const listed = await p.locator('#plan-unstaffed li').evaluateAll((n) => n.map((x) => x.dataset.grid));
    assert(JSON.stringify(listed) === JSON.stringify(unstaffed.unstaffed), `the page lists ${listed}, the service ${unstaffed.unstaffed}`);
    await p.locator('#plan-publish-unstaffed').tap();
    await p.waitForFunction(() => document.getElementById('plan-status').className.includes('ok') && !document.querySelector('[data-draft]'), null, { timeout: 60_000 });
    const now = (await json('/v1/versions')).body.versions.find((v) => v.current);
    assert(now.note.startsWith('e2e: smaller grids [published with no grid worker yet in '), `current version note: ${now.note}`);
    const unexpected = phone.errors.slice(before).filter((e) => !/\/collections\/communities/.test(e) && !(/\b422\b/.test(e) && /\/publish$/.test(e)));
    assert(unexpected.length === 0, unexpected.join('\n'));
  });
}

await check('planner: no unexpected errors and no request left the server', async () => {
  // Expected: the wrong token's 401, the OGC communities collection where it does not exist yet,
  // and the rejected uploads' 422 and 400.
  const rejectedUpload = (e) => /\b(400|422)\b/.test(e) && /\/v1\/datasets\s*$/.test(e);
  const unexpected = desktop.errors.slice(residentErrors).filter((e) => !/\/v1\/auth|\b401\b|\/collections\/communities/.test(e) && !rejectedUpload(e));
  assert(desktop.foreign.length === 0, `requests to other hosts: ${desktop.foreign.join(', ')}`);
  assert(unexpected.length === 0, unexpected.join('\n'));
});

await browser.close();
console.log(`\nscreenshots: ${shots}`);
console.log(`${passed} passed, ${failed} failed`);
if (failed) console.log(`failed: ${failures.join('; ')}`);
process.exit(failed ? 1 : 0);
