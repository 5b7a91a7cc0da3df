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
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  // The search box cancels a suggestion request a newer keystroke made stale (issue 20, suggestions).
  const staleSuggestion = (r) => /\/v1\/suggest\?/.test(r.url()) && /ERR_ABORTED/.test(r.failure()?.errorText || '');
  page.on('requestfailed', (r) => { if (new URL(r.url()).origin === origin && !cancelledTile(r) && !staleSuggestion(r)) errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`); });
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

/**
 * Visible Latin-script words in the page (run in the page). Exempt: what is marked as data or
 * a code (`translate="no"`: names, addresses, grid codes, file names, JSON paths, ids, notes as
 * written), text marked as another language (the "English" switch, `lang="en"`), file names
 * and "UTF-8" (an encoding's name, in the not-UTF-8 refusal). Placeholders and the option a
 * select shows count too; the map's canvas labels do not (they are not the page's text).
 */
const LATIN_SCAN = `(() => {
  const found = [];
  const allowed = (s) => s.replace(/[\\w.-]+\\.(geo)?json\\b/g, ' ').replace(/\\bUTF-8\\b/g, ' ');
  const exempt = '[translate="no"], [lang]:not([lang^="zh"]), script, style, noscript, option';
  const visible = (el) => el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }) && el.getClientRects().length > 0;
  const where = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = walker.nextNode());) {
    const el = n.parentElement;
    if (!el || el.closest(exempt) || !visible(el)) continue;
    const words = allowed(n.textContent).match(/[A-Za-z]+/g);
    if (words) found.push(words.join(' ') + ' in "' + n.textContent.trim().slice(0, 90) + '" <' + where(el) + '>');
  }
  for (const el of document.querySelectorAll('input[placeholder]')) {
    // A placeholder's example address (data-example) is data, as the served dataset writes it.
    const own = el.dataset.example ? el.placeholder.split(el.dataset.example).join(' ') : el.placeholder;
    if (visible(el) && !el.closest(exempt) && /[A-Za-z]/.test(allowed(own))) found.push('placeholder "' + el.placeholder + '" <' + where(el) + '>');
  }
  for (const el of document.querySelectorAll('select')) {
    const o = el.selectedOptions[0];
    if (o && visible(el) && !el.closest(exempt) && !o.closest(exempt) && /[A-Za-z]/.test(allowed(o.textContent))) found.push('option "' + o.textContent + '" <' + where(el) + '>');
  }
  for (const el of document.querySelectorAll('input[type=file]')) {
    // The browser draws a visible file input's button and "No file chosen" in its own language.
    if (visible(el) && el.getBoundingClientRect().width > 2) found.push('a visible browser file input <' + where(el) + '>');
  }
  return found;
})()`;
/** Views scanned for Latin text in Chinese mode, and what was found in each. */
const latinScans = [];
async function scanLatin(pg, view) {
  const found = await pg.evaluate(LATIN_SCAN);
  latinScans.push({ view, found });
  return found;
}

/** A pixel near `lngLat` (within `r` px) of colour `hex` (±tol per channel), or null. */
async function pixelNear(pg, lngLat, hex, r = 3, tol = 40) {
  return pg.evaluate(([ll, hex, r, tol]) => {
    const map = window.wangge.map;
    const p = map.project(ll);
    const canvas = map.getCanvas();
    const ratio = canvas.width / canvas.clientWidth;
    const c2 = document.createElement('canvas');
    c2.width = canvas.width; c2.height = canvas.height;
    const ctx = c2.getContext('2d');
    ctx.drawImage(canvas, 0, 0);
    const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const [x0, y0] = [Math.round(p.x * ratio), Math.round(p.y * ratio)];
    const R = Math.ceil(r * ratio);
    const d = ctx.getImageData(x0 - R, y0 - R, 2 * R + 1, 2 * R + 1).data;
    for (let i = 0; i < d.length; i += 4) {
      if (want.every((c, k) => Math.abs(c - d[i + k]) <= tol)) return [d[i], d[i + 1], d[i + 2]];
    }
    return null;
  }, [lngLat, hex, r, tol]);
}

/** [west, south, east, north] of a GeoJSON feature. */
function bbox(f) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const visit = (c) => { if (typeof c[0] === 'number') { b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]); b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]); } else c.forEach(visit); };
  visit(f.geometry.coordinates);
  return b;
}

/** The map's position, to compare after Back. */
const cameraOf = (pg) => pg.evaluate(() => { const m = window.wangge.map; const c = m.getCenter(); return { lon: c.lng, lat: c.lat, zoom: m.getZoom() }; });
function sameCamera(a, b) {
  return Math.abs(a.zoom - b.zoom) < 0.01 && Math.abs(a.lon - b.lon) < 1e-6 && Math.abs(a.lat - b.lat) < 1e-6;
}

const desktop = await open({ viewport: { width: 1366, height: 860 }, deviceScaleFactor: 1, permissions: ['geolocation'], geolocation: { longitude: alon, latitude: alat } });
const { page } = desktop;

await check('the page and the style come only from this server', async () => {
  await page.screenshot({ path: join(shots, 'desktop-start.png') });
  await scanLatin(page, 'desktop: first view, legend');
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
  // Kangle has roads: distances are walked on them ("步行 650 米 · 约 8 分钟"), not straight lines.
  assert(near.length === 3 && near.every((t) => /^步行 \d+(\.\d)? (米|公里) · 约 \d+ 分钟$/.test(t)), `nearby distances: ${near}`);
  await settle(page, 'map.triggerRepaint();');
  await page.screenshot({ path: join(shots, 'desktop-address.png') });
});

await check('the searched building is outlined in red and labelled with its address', async () => {
  assert(cand.building, `the address candidate names no building: ${JSON.stringify(cand)}`);
  const footprint = (await json(`/collections/buildings/items/${encodeURIComponent(cand.building)}`)).body;
  // Close up, so the outline is wide enough to hit; the panel keeps the left of the screen.
  await settle(page, 'map.jumpTo({ center: arg, zoom: 17.5 });', [alon, alat]);
  const drawn = await page.evaluate(() => {
    const map = window.wangge.map;
    return {
      line: map.queryRenderedFeatures({ layers: ['selected-building-line'] }).map((f) => f.properties.id),
      label: map.queryRenderedFeatures({ layers: ['selected-building-label'] }).map((f) => f.properties.label),
      colour: map.getPaintProperty('selected-building-line', 'line-color'),
    };
  });
  assert(drawn.line.includes(cand.building), `the outline layer draws ${drawn.line}, want ${cand.building}`);
  assert(drawn.label.length === 1 && footprint.properties.address.endsWith(drawn.label[0]) && /楼/.test(drawn.label[0]), `the building is labelled ${drawn.label}, address ${footprint.properties.address}`);
  // A pixel on the outline: the middle of the footprint's longest edge.
  const ring = footprint.geometry.type === 'Polygon' ? footprint.geometry.coordinates[0] : footprint.geometry.coordinates[0][0];
  let edge = [ring[0], ring[1]];
  const len = ([a, b]) => Math.hypot((a[0] - b[0]) * Math.cos((a[1] * Math.PI) / 180), a[1] - b[1]);
  for (let i = 0; i + 1 < ring.length; i += 1) if (len([ring[i], ring[i + 1]]) > len(edge)) edge = [ring[i], ring[i + 1]];
  const mid = [(edge[0][0] + edge[1][0]) / 2, (edge[0][1] + edge[1][1]) / 2];
  const px = await pixelNear(page, mid, drawn.colour, 3, 45);
  assert(px, `no ${drawn.colour} pixel on the building's outline at ${mid}`);
  await page.screenshot({ path: join(shots, 'desktop-building-outline.png') });
});

await check('the selected grid is drawn apart from the community line (colour, width, halo, veil outside)', async () => {
  // The whole community in view: the selected grid and the veiled ones around it.
  await settle(page, 'map.jumpTo({ center: arg, zoom: 15.5 });', [alon, alat]);
  await page.screenshot({ path: join(shots, 'desktop-selected-grid.png') });
  const s = await page.evaluate(() => {
    const map = window.wangge.map;
    const z = 16;
    const at = (layer, prop) => {
      const v = map.getPaintProperty(layer, prop);
      // Interpolations by zoom: [interpolate, [linear], [zoom], z0, v0, z1, v1, ...] at z.
      if (!Array.isArray(v)) return v;
      const stops = v.slice(3);
      for (let i = 0; i + 3 < stops.length; i += 2) if (z >= stops[i] && z <= stops[i + 2]) return stops[i + 1] + ((stops[i + 3] - stops[i + 1]) * (z - stops[i])) / (stops[i + 2] - stops[i]);
      return stops[stops.length - 1];
    };
    const selected = map.queryRenderedFeatures({ layers: ['selected-grid-line'] }).map((f) => f.properties.code);
    const veiled = map.queryRenderedFeatures({ layers: ['selected-grid-mask'] }).map((f) => f.properties.code);
    return {
      selected: [...new Set(selected)], veiled: [...new Set(veiled)],
      line: [map.getPaintProperty('selected-grid-line', 'line-color'), at('selected-grid-line', 'line-width')],
      halo: [map.getPaintProperty('selected-grid-halo', 'line-color'), at('selected-grid-halo', 'line-width')],
      community: [map.getPaintProperty('community-line', 'line-color'), at('community-line', 'line-width')],
      grid: [map.getPaintProperty('grid-line', 'line-color'), at('grid-line', 'line-width')],
    };
  });
  assert(s.selected.length === 1 && s.selected[0] === expectedCode, `selected grid layer draws ${s.selected}`);
  assert(s.veiled.length > 0 && !s.veiled.includes(expectedCode), `the veil covers ${s.veiled}, which should be the other grids`);
  const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const far = (a, b) => Math.max(...rgb(a).map((c, i) => Math.abs(c - rgb(b)[i])));
  for (const other of [s.community, s.grid]) {
    assert(far(s.line[0], other[0]) >= 80, `the selected grid's line ${s.line[0]} looks like ${other[0]}`);
    assert(s.line[1] >= other[1] * 1.4, `the selected grid's line (${s.line[1]} px) is not wider than ${other[1]} px`);
  }
  assert(s.halo[0] === '#ffffff' && s.halo[1] > s.line[1] + 2, `no halo under the selected grid: ${s.halo}`);
  console.log(`  selected ${s.line[0]} ${s.line[1].toFixed(1)} px on a ${s.halo[1].toFixed(1)} px halo; community ${s.community[0]} ${s.community[1].toFixed(1)} px`);
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

await check('the chosen service is ringed on the map and stays so until another is chosen', async () => {
  const ringed = () => page.evaluate(() => window.wangge.map.queryRenderedFeatures({ layers: ['selected-resource-halo'] }).map((f) => f.properties.id));
  assert(JSON.stringify(await ringed()) === JSON.stringify([clinic.id]), `ringed: ${await ringed()}, want ${clinic.id}`);
  const colour = await page.evaluate(() => window.wangge.map.getPaintProperty('selected-resource-halo', 'circle-stroke-color'));
  // The ring's stroke, 17–20 px right of the icon's centre (clear of the icon and its label).
  const ring = await page.evaluate((ll) => { const m = window.wangge.map; const p = m.project(ll); return m.unproject([p.x + 18.5, p.y]).toArray(); }, clinic.location);
  assert(await pixelNear(page, ring, colour, 2, 50), `no ${colour} ring pixel beside the clinic's icon`);
  await settle(page, 'map.panBy([120, 40], { duration: 0 });');
  assert(JSON.stringify(await ringed()) === JSON.stringify([clinic.id]), 'the ring went away when the map moved');
  await settle(page, 'map.panBy([-120, -40], { duration: 0 });');
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
  const roles = await page.locator('.staff-role').allInnerTexts();
  assert(roles.length > 0 && roles.every((r) => /^(Grid leader|Grid worker|Building leader)$/.test(r) || !/[\u4e00-\u9fff]/.test(r)), `staff roles in English mode: ${roles}`);
  assert(roles.includes('Grid leader') || roles.includes('Grid worker'), `no translated role among ${roles}`);
  await settle(page, 'map.triggerRepaint();');
  await page.screenshot({ path: join(shots, 'desktop-english.png') });
  await page.click('#lang');
  assert(await page.locator('h1').innerText() === '网格服务地图', 'back to Chinese');
  const zhRoles = await page.locator('.staff-role').allInnerTexts();
  assert(zhRoles.every((r) => /[\u4e00-\u9fff]/.test(r)), `staff roles back in Chinese: ${zhRoles}`);
});

await check('tiles are at the served version\'s immutable URLs (used after a publish)', async () => {
  const tj = (await json('/tiles.json')).body;
  const version = (await json('/healthz')).body.version;
  assert(tj.tiles[0].includes(`/v/${version}/tiles/`), `tiles.json points at ${tj.tiles[0]}, not version ${version}'s URLs`);
  const [w, s, e, n] = tj.bounds;
  const z = 15;
  const x = Math.floor(((w + e) / 2 + 180) / 360 * 2 ** z);
  const lat = ((s + n) / 2) * Math.PI / 180;
  const y = Math.floor((1 - Math.log(Math.tan(lat) + 1 / Math.cos(lat)) / Math.PI) / 2 * 2 ** z);
  const res = await fetch(`${base}/v/${version}/tiles/${z}/${x}/${y}.mvt`);
  assert(res.status === 200, `the versioned tile answered ${res.status}`);
  assert(res.headers.get('cache-control').includes('immutable'), `versioned tile cache-control ${res.headers.get('cache-control')}`);
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
  await scanLatin(page, 'desktop: a compound name’s grids');
  // Back to the building the later checks start from.
  await page.fill('#q', ADDRESS);
  await page.press('#q', 'Enter');
  await page.locator('.grid-card').waitFor({ timeout: 20_000 });
});

await check('Back (the panel’s and the browser’s) returns the previous view, its selection and the map where it was', async () => {
  await page.waitForFunction((code) => document.querySelector('.grid-card')?.dataset.grid === code, expectedCode, { timeout: 20_000 });
  await settle(page, 'map.triggerRepaint();');
  await page.waitForTimeout(700); // the flight to the building ends
  const atCard = await cameraOf(page);
  await scanLatin(page, 'desktop: grid card');
  // From the grid card to a service…
  await page.locator('.grid-card button.near').first().click();
  await page.locator('.resource-card').waitFor({ timeout: 20_000 });
  await page.waitForTimeout(800);
  // The walk to it is drawn on the map, and the card gives the walking distance.
  await settle(page, 'map.triggerRepaint();');
  const route = await page.evaluate(() => window.wangge.map.queryRenderedFeatures({ layers: ['walk-route-line'] }).length);
  assert(route > 0, 'no walking route drawn to the chosen service');
  const walked = await page.locator('.resource-card dd').allInnerTexts();
  assert(walked.some((t) => /^步行 .* · 约 \d+ 分钟$/.test(t)), `the service card's distance: ${walked}`);
  await page.screenshot({ path: join(shots, 'desktop-walk-route.png') });
  await scanLatin(page, 'desktop: service card');
  const atResource = await cameraOf(page);
  assert(!sameCamera(atCard, atResource), 'opening a service did not move the map (nothing to restore)');
  // …and the browser's Back: the grid card, its building outlined, the map where it was.
  await page.goBack();
  await page.waitForFunction((code) => document.querySelector('.grid-card')?.dataset.grid === code, expectedCode, { timeout: 10_000 });
  const back = await cameraOf(page);
  assert(sameCamera(back, atCard), `after Back the map is at ${JSON.stringify(back)}, it was at ${JSON.stringify(atCard)}`);
  const sel = await page.evaluate(() => [window.wangge.state.selectedGrid, window.wangge.state.selectedBuilding?.id]);
  assert(sel[0] === expectedCode && sel[1] === cand.building, `after Back the selection is ${sel}`);
  // Forward again, then the panel's Back.
  await page.goForward();
  await page.locator('.resource-card').waitFor({ timeout: 10_000 });
  assert(sameCamera(await cameraOf(page), atResource), 'Forward did not return to the service');
  await page.click('.resource-card #back');
  await page.waitForFunction((code) => document.querySelector('.grid-card')?.dataset.grid === code, expectedCode, { timeout: 10_000 });
  assert(sameCamera(await cameraOf(page), atCard), 'the panel’s Back did not return the map to the grid card’s view');
  // From the grid card, Back is the compound's list of grids searched before it.
  await page.click('.grid-card #back');
  await page.locator('.area-card[data-level="compound"]').waitFor({ timeout: 10_000 });
  const cleared = await page.evaluate(() => [window.wangge.state.selectedBuilding, window.wangge.map.querySourceFeatures('selected-building').length]);
  assert(cleared[0] === null && cleared[1] === 0, `the compound view still outlines a building: ${JSON.stringify(cleared)}`);
  await settle(page, 'map.triggerRepaint();');
  await page.screenshot({ path: join(shots, 'desktop-back-to-compound.png') });
  // Where the later checks start from.
  await page.goForward();
  await page.waitForFunction((code) => document.querySelector('.grid-card')?.dataset.grid === code, expectedCode, { timeout: 10_000 });
});

await check('a map click inside a building outlines that building and names it on the card', async () => {
  // Another compound's building than the one searched: its anchor point (inside it) from the geocoder.
  const buildings = (await json('/collections/buildings/items?limit=500')).body.features;
  const pick = buildings.find((b) => b.properties.address && b.properties.compound && b.properties.compound !== cand.compound && b.properties.grid_code !== expectedCode);
  assert(pick, 'no building of another compound and grid to click');
  const target = (await json(`/v1/lookup?address=${encodeURIComponent(pick.properties.address)}`)).body.candidates[0];
  assert(target.building === pick.id, `${pick.properties.address} geocodes to ${target.building}`);
  await settle(page, 'map.jumpTo({ center: arg, zoom: 17 });', target.location);
  const pt = await page.evaluate((ll) => { const p = window.wangge.map.project(ll); const r = window.wangge.map.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }, target.location);
  await page.mouse.click(pt[0], pt[1]);
  await page.waitForFunction((code) => document.querySelector('.grid-card')?.dataset.grid === code, target.grid.code, { timeout: 20_000 });
  await page.waitForFunction((id) => window.wangge.state.selectedBuilding?.id === id, target.building, { timeout: 10_000 });
  const line = await page.locator('.grid-card .address-line').innerText();
  assert(line === target.address, `the card names ${line}, want ${target.address}`);
  await settle(page, 'map.triggerRepaint();');
  const drawn = await page.evaluate(() => window.wangge.map.queryRenderedFeatures({ layers: ['selected-building-line'] }).map((f) => f.properties.id));
  assert(drawn.includes(target.building), `a click outlines ${drawn}, want ${target.building}`);
  await page.screenshot({ path: join(shots, 'desktop-click-building.png') });
  await page.goBack();
  await page.waitForFunction((code) => document.querySelector('.grid-card')?.dataset.grid === code, expectedCode, { timeout: 10_000 });
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
  await contextChecksStreet(street.page, streetBase); // issue 20, context layers (the block below)
  await check('street of nine communities: no console errors and no request left the server', async () => {
    assert(street.foreign.length === 0, `requests to other hosts: ${street.foreign.join(', ')}`);
    assert(street.errors.length === 0, street.errors.join('\n'));
  });
  await street.context.close();
} else {
  console.log('# WANGGE_E2E_STREET not set: the Zhongjing street checks are skipped');
}

// ---- a real OpenStreetMap city centre (Helsinki) ---------------------------------------------------
// ==== Suggestions as people type (issue 20): the search box's combobox ==========================
// Kept in one block (with one call line in the OSM and phone sections) to ease merging.

/** Types `text` into the empty search box key by key, as a person does. */
async function typeInSearch(pg, text, delay = 60) {
  await pg.fill('#q', '');
  await pg.focus('#q');
  await pg.keyboard.type(text, { delay });
}

/** Waits for the suggestion list to show the answer for what is in the box; its labels. */
async function suggestionsShown(pg, q) {
  await pg.waitForFunction((typed) => {
    const list = document.getElementById('suggestions');
    return !list.hidden && list.children.length > 0 && document.getElementById('q').value.trim() === typed
      && document.getElementById('q').getAttribute('aria-expanded') === 'true';
  }, q, { timeout: 15_000 });
  return pg.locator('#suggestions [role=option] .sugg-label').allInnerTexts();
}

async function suggestionChecksDesktop(pg) {
  const tj = (await json('/tiles.json')).body;
  await check('suggestions: the search box’s placeholder is an address of the served data', async () => {
    const example = tj.search_example;
    assert(typeof example === 'string' && example.length > 1, `tiles.json search_example: ${JSON.stringify(example)}`);
    const placeholder = await pg.getAttribute('#q', 'placeholder');
    assert(placeholder.includes(example), `placeholder "${placeholder}" does not show "${example}"`);
    const s = (await json(`/v1/suggest?q=${encodeURIComponent(example)}&limit=1`)).body.suggestions[0];
    assert(s?.kind === 'address' && s.match === 'exact', `the example is no address of the data: ${JSON.stringify(s)}`);
    // The page's words name no fixture's place (the example comes from the data alone).
    for (const file of ['/', '/app/i18n.js']) {
      const text = (await json(file)).body;
      assert(!/嘉禾公寓|康乐/.test(text), `${file} names a Kangle place`);
    }
  });

  await check('suggestions: typing 康乐 lists the community, then places, as a listbox', async () => {
    const want = (await json(`/v1/suggest?q=${encodeURIComponent('康乐')}&limit=8`)).body.suggestions;
    let requests = 0;
    const count = (r) => { if (r.url().includes('/v1/suggest?')) requests += 1; };
    pg.on('request', count);
    await typeInSearch(pg, '康乐', 40);
    const labels = await suggestionsShown(pg, '康乐');
    pg.off('request', count);
    assert(JSON.stringify(labels) === JSON.stringify(want.map((s) => s.label)), `shown ${JSON.stringify(labels)}, the API says ${JSON.stringify(want.map((s) => s.label))}`);
    assert(labels[0] === '康乐社区', `first suggestion ${labels[0]}`);
    assert(requests <= 2, `${requests} suggestion requests for two keystrokes 40 ms apart (debounced: at most 2)`);
    const aria = await pg.evaluate(() => ({
      role: document.getElementById('q').getAttribute('role'),
      controls: document.getElementById('q').getAttribute('aria-controls'),
      list: document.getElementById('suggestions').getAttribute('role'),
      options: [...document.querySelectorAll('#suggestions > *')].every((o) => o.getAttribute('role') === 'option'),
      kinds: [...document.querySelectorAll('#suggestions .sugg-kind')].map((n) => n.textContent),
    }));
    assert(aria.role === 'combobox' && aria.controls === 'suggestions' && aria.list === 'listbox' && aria.options, `ARIA: ${JSON.stringify(aria)}`);
    assert(aria.kinds[0] === '社区', `kind tags: ${aria.kinds}`);
    await pg.screenshot({ path: join(shots, 'desktop-suggestions.png') });
    await scanLatin(pg, 'desktop: suggestions');
    // Escape closes the list and keeps the text.
    await pg.keyboard.press('Escape');
    await pg.waitForFunction(() => document.getElementById('suggestions').hidden);
    assert(await pg.inputValue('#q') === '康乐', 'Escape kept the text');
  });

  await check('suggestions: a fast typist gets the answer to the last text only', async () => {
    const text = '嘉禾公寓';
    await typeInSearch(pg, text, 15);
    const labels = await suggestionsShown(pg, text);
    assert(labels.length && labels.every((l) => l.startsWith(text)), `suggestions for "${text}": ${labels}`);
    await pg.keyboard.press('Escape');
  });

  await check('suggestions: ↓ and Enter open the chosen building’s grid card with the building outlined', async () => {
    const typed = ADDRESS.replace(/号楼$/, '');
    await typeInSearch(pg, typed);
    const labels = await suggestionsShown(pg, typed);
    assert(labels[0] === ADDRESS, `first suggestion for ${typed}: ${labels[0]}`);
    await pg.keyboard.press('ArrowDown');
    const active = await pg.evaluate(() => ({
      descendant: document.getElementById('q').getAttribute('aria-activedescendant'),
      selected: document.querySelector('#suggestions [aria-selected="true"]')?.id,
    }));
    assert(active.descendant === 'suggestion-0' && active.selected === 'suggestion-0', `after ↓: ${JSON.stringify(active)}`);
    // ↓ ↑ wraps around and back.
    await pg.keyboard.press('ArrowUp');
    await pg.keyboard.press('ArrowDown');
    await pg.keyboard.press('ArrowDown');
    await pg.keyboard.press('ArrowUp');
    await pg.keyboard.press('Enter');
    await pg.waitForFunction((code) => document.querySelector('.grid-card')?.dataset.grid === code, expectedCode, { timeout: 20_000 });
    await pg.waitForFunction((id) => window.wangge.state.selectedBuilding?.id === id, cand.building, { timeout: 10_000 });
    const shown = await pg.locator('.grid-card .address-line').innerText();
    assert(shown === cand.address, `the card says ${shown}, the lookup ${cand.address}`);
    assert(await pg.inputValue('#q') === ADDRESS, 'the box shows the chosen address');
  });

  await check('suggestions: a compound opens its grids, a resource its card, a grid code its card', async () => {
    const compound = (await json(`/v1/suggest?q=${encodeURIComponent('兴隆')}&limit=8`)).body.suggestions.find((s) => s.kind === 'compound');
    assert(compound, 'a compound starting 兴隆 in Kangle');
    await typeInSearch(pg, '兴隆');
    await suggestionsShown(pg, '兴隆');
    await pg.locator('#suggestions .suggestion[data-kind="compound"]').first().click();
    await pg.locator('.area-card[data-level="compound"]').waitFor({ timeout: 20_000 });

    await typeInSearch(pg, '康乐诊所');
    await suggestionsShown(pg, '康乐诊所');
    await pg.keyboard.press('ArrowDown');
    await pg.keyboard.press('Enter');
    await pg.locator('.resource-card').waitFor({ timeout: 20_000 });
    assert((await pg.locator('.resource-name').innerText()) === '康乐诊所', 'the clinic’s card');
    assert(/\d/.test(await pg.locator('.resource-card .phone').innerText()), 'with its phone');

    await typeInSearch(pg, expectedCode);
    await suggestionsShown(pg, expectedCode);
    await pg.keyboard.press('ArrowDown');
    await pg.keyboard.press('Enter');
    await pg.waitForFunction((code) => document.querySelector('.grid-card')?.dataset.grid === code && window.wangge.state.selectedGrid === code, expectedCode, { timeout: 20_000 });
  });

  await check('suggestions: pinyin initials (klzs → 康乐诊所), and in English the kinds are English', async () => {
    await typeInSearch(pg, 'klzs');
    const labels = await suggestionsShown(pg, 'klzs');
    assert(labels[0] === '康乐诊所', `klzs: ${labels}`);
    await pg.keyboard.press('Escape');
    await pg.click('#lang');
    await typeInSearch(pg, '康乐');
    await suggestionsShown(pg, '康乐');
    const kinds = await pg.locator('#suggestions .sugg-kind').allInnerTexts();
    assert(kinds[0] === 'Community', `English kind tags: ${kinds}`);
    const placeholder = await pg.getAttribute('#q', 'placeholder');
    assert(placeholder.startsWith('Type an address'), `English placeholder: ${placeholder}`);
    await pg.screenshot({ path: join(shots, 'desktop-suggestions-english.png') });
    await pg.keyboard.press('Escape');
    await pg.click('#lang');
    // Back to the search's answer, for the checks after these.
    await pg.fill('#q', ADDRESS);
    await pg.press('#q', 'Enter');
    await pg.waitForFunction((code) => document.querySelector('.grid-card')?.dataset.grid === code, expectedCode, { timeout: 20_000 });
  });
}

async function suggestionChecksPhone(pg) {
  await check('phone: suggestions under the search box; a tap opens the clinic’s card', async () => {
    await pg.locator('#q').tap();
    await typeInSearch(pg, '康乐诊');
    const labels = await suggestionsShown(pg, '康乐诊');
    assert(labels[0] === '康乐诊所', `phone suggestions: ${labels}`);
    const box = await pg.locator('#suggestions').boundingBox();
    assert(box && box.y + box.height <= 844 && box.x >= 0 && box.x + box.width <= 390, `the list is off screen: ${JSON.stringify(box)}`);
    await pg.screenshot({ path: join(shots, 'phone-suggestions.png') });
    await scanLatin(pg, 'phone: suggestions');
    await pg.locator('#suggestions .suggestion').first().tap();
    await pg.locator('.resource-card').waitFor({ timeout: 20_000 });
    assert((await pg.locator('.resource-name').innerText()) === '康乐诊所', 'the clinic’s card');
    await pg.goBack();
  });
}

async function suggestionChecksOsm(pg, at) {
  await check('OSM city centre: a real street name suggests its addresses; choosing one opens its grid', async () => {
    const items = (await (await fetch(`${at}/collections/buildings/items?limit=1000`)).json()).features;
    const streets = new Map();
    for (const f of items) {
      const m = /^(\D+?)\s+\d/.exec(f.properties.address || '');
      if (m) streets.set(m[1], (streets.get(m[1]) || 0) + 1);
    }
    const [street] = [...streets.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0] || [];
    assert(street, 'an OSM building with addr:street and addr:housenumber');
    const typed = street.slice(0, Math.min(street.length, 9));
    await typeInSearch(pg, typed);
    await suggestionsShown(pg, typed);
    const shown = await pg.evaluate(() => [...document.querySelectorAll('#suggestions .suggestion')].map((n) => ({ kind: n.dataset.kind, label: n.querySelector('.sugg-label').textContent })));
    const addresses = shown.filter((s) => s.kind === 'address' && s.label.startsWith(street));
    assert(addresses.length >= Math.min(2, streets.get(street)), `typing "${typed}" shows ${JSON.stringify(shown)}`);
    await pg.screenshot({ path: join(shots, 'osm-suggestions.png') });
    const placeholder = await pg.getAttribute('#q', 'placeholder');
    const tj = await (await fetch(`${at}/tiles.json`)).json();
    assert(tj.search_example && placeholder.includes(tj.search_example), `OSM placeholder "${placeholder}", example ${tj.search_example}`);
    await scanLatin(pg, 'OSM city centre: suggestions');
    const index = shown.findIndex((s) => s.kind === 'address' && s.label.startsWith(street));
    for (let i = 0; i <= index; i += 1) await pg.keyboard.press('ArrowDown');
    await pg.keyboard.press('Enter');
    await pg.locator('.grid-card').waitFor({ timeout: 20_000 });
    const line = await pg.locator('.grid-card .address-line').innerText();
    assert(line.startsWith(street), `the grid card's address: ${line}`);
  });
}

await suggestionChecksDesktop(page);
// ==== end of the suggestions block ============================================================

// ==== issue 20: context layers ====================================================================
// Water and green around the community (Helsinki's OpenStreetMap import) at the style's zooms, and
// an urban village's population points (Zhongjing) as dots with their counts close up, each with
// its legend entry in Chinese. Kept in one block (one call line in the street and OSM sections)
// to ease merging.

/** Features MapLibre rendered in the view, per style layer. */
function renderedIn(pg, layers) {
  return pg.evaluate((ls) => {
    const map = window.wangge.map;
    const out = {};
    for (const l of ls) out[l] = map.getLayer(l) ? map.queryRenderedFeatures({ layers: [l] }).length : -1;
    return out;
  }, layers);
}

async function contextChecksOsm(pg, at) {
  const tj = await (await fetch(`${at}/tiles.json`)).json();
  await check('context (OSM city centre): water and green drawn from z10, none below, with their legend entries', async () => {
    assert(JSON.stringify(tj.context_layers) === JSON.stringify(['water', 'green']), `tiles.json context_layers ${JSON.stringify(tj.context_layers)}`);
    const seen = [];
    for (const z of [9, 10, 13, 15]) {
      await settle(pg, 'map.setPadding({ left: 0, right: 0, top: 0, bottom: 0 }); map.jumpTo({ center: arg.c, zoom: arg.z });', { c: tj.center.slice(0, 2), z });
      const n = await renderedIn(pg, ['water', 'waterway', 'green']);
      seen.push(`z${z}: ${n.water} water, ${n.waterway} waterway, ${n.green} green`);
      if (z < 10) assert(n.water === 0 && n.waterway === 0 && n.green === 0, `z${z}: ${JSON.stringify(n)}`);
      else assert(n.water + n.waterway > 0 && n.green > 0, `z${z}: ${JSON.stringify(n)}`);
      if (z === 15) await pg.screenshot({ path: join(shots, 'osm-context-z15.png') });
    }
    // A park's colour on the canvas at a point inside it (green over the paper, under the grid lines).
    const park = await pg.evaluate(() => {
      const map = window.wangge.map;
      const fs = map.queryRenderedFeatures({ layers: ['green'] }).filter((f) => f.properties.kind === 'park');
      const f = fs.sort((a, b) => JSON.stringify(b.geometry).length - JSON.stringify(a.geometry).length)[0];
      if (!f) return null;
      const ring = f.geometry.type === 'Polygon' ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0];
      return { name: f.properties.name, ring };
    });
    assert(park, 'no park rendered at z15');
    console.log(`  ${seen.join('; ')}; largest park on screen: ${park.name}`);
    const items = await pg.locator('#legend li.legend-water, #legend li.legend-green').allInnerTexts();
    assert(JSON.stringify(items.map((s) => s.trim())) === JSON.stringify(['水域', '绿地']), `legend context entries ${JSON.stringify(items)}`);
    assert((await pg.locator('#legend li.legend-population-points').count()) === 0, 'a legend entry for population points the data does not hold');
    const legend = await pg.locator('#legend').innerText();
    assert(!/[A-Za-z]/.test(legend), `Latin text in the Chinese legend: ${legend}`);
    await pg.locator('#legend').screenshot({ path: join(shots, 'osm-context-legend.png') });
  });
}

async function contextChecksStreet(pg, at) {
  const tj = await (await fetch(`${at}/tiles.json`)).json();
  const points = JSON.parse(readFileSync(join(here, '../../fixtures/zhongjing/population.geojson'), 'utf8')).features;
  const centre = [0, 1].map((k) => points.reduce((a, f) => a + f.geometry.coordinates[k], 0) / points.length);
  await check('context (street): the urban village\'s population points show as dots from z14, counts from z16, 城中村人口点 in the legend', async () => {
    assert(tj.context_layers.includes('population_points'), `tiles.json context_layers ${JSON.stringify(tj.context_layers)}`);
    const seen = [];
    for (const z of [13, 14, 16]) {
      await settle(pg, 'map.setPadding({ left: 0, right: 0, top: 0, bottom: 0 }); map.jumpTo({ center: arg.c, zoom: arg.z });', { c: centre, z });
      const n = await renderedIn(pg, ['population-points', 'population-count']);
      seen.push(`z${z}: ${n['population-points']} dots, ${n['population-count']} counts`);
      assert((n['population-points'] > 0) === (z >= 14), `z${z}: ${JSON.stringify(n)}`);
      assert((n['population-count'] > 0) === (z >= 16), `z${z}: ${JSON.stringify(n)}`);
      if (z >= 14) await pg.screenshot({ path: join(shots, `street-population-points-z${z}.png`) });
    }
    // A dot in the dots' colour on the canvas at one of the points.
    const dot = await pg.evaluate(() => window.wangge.map.queryRenderedFeatures({ layers: ['population-points'] })[0].geometry.coordinates);
    const colour = await pg.evaluate(() => window.wangge.map.getPaintProperty('population-points', 'circle-color'));
    assert(await pixelNear(pg, dot, colour, 4, 60), `no ${colour} pixel at the dot ${dot}`);
    const entry = await pg.locator('#legend li.legend-population-points').innerText();
    assert(entry.trim() === '城中村人口点', `legend entry ${entry}`);
    console.log(`  ${seen.join('; ')}`);
  });
}
// ==== end of the context layers block =============================================================

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
    // A real extract's footways and streets: walking distances there too.
    const dists = await osm.page.locator('.near-dist').allInnerTexts();
    assert(dists.length > 0 && dists.every((t) => /^步行 /.test(t)), `nearby distances on OSM: ${dists}`);
    await settle(osm.page, 'map.triggerRepaint();');
    await osm.page.screenshot({ path: join(shots, 'osm-grid-card.png') });
    await scanLatin(osm.page, 'OSM city centre: grid card');
  });
  await check('OSM city centre: a click on a building outlines that footprint (real OpenStreetMap outlines)', async () => {
    const [lon, lat] = tj.center;
    const d = 0.002;
    const near = (await (await fetch(`${osmBase}/collections/buildings/items?bbox=${lon - d},${lat - d},${lon + d},${lat + d}&limit=200`)).json()).features;
    // A point inside a footprint: the mean of its outer ring, where that is inside (most are).
    const inside = (ring, [x, y]) => { let c = false; for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) { const [xi, yi] = ring[i]; const [xj, yj] = ring[j]; if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c; } return c; };
    let target = null;
    for (const f of near) {
      const ring = f.geometry.type === 'Polygon' ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0];
      const at = [ring.reduce((a, p) => a + p[0], 0) / ring.length, ring.reduce((a, p) => a + p[1], 0) / ring.length];
      if (inside(ring, at) && !near.some((g) => g !== f && inside(g.geometry.type === 'Polygon' ? g.geometry.coordinates[0] : g.geometry.coordinates[0][0], at))) { target = { f, at }; break; }
    }
    assert(target, `no building near the centre with its ring's mean inside it (${near.length} looked at)`);
    await settle(osm.page, 'map.jumpTo({ center: arg, zoom: 17 });', target.at);
    await osm.page.evaluate((c) => window.wangge.lookupPoint(c[0], c[1]), target.at);
    await osm.page.waitForFunction((id) => window.wangge.state.selectedBuilding?.id === id, target.f.id, { timeout: 20_000 });
    await settle(osm.page, 'map.triggerRepaint();');
    const drawn = await osm.page.evaluate(() => window.wangge.map.queryRenderedFeatures({ layers: ['selected-building-line'] }).map((f) => f.properties.id));
    assert(drawn.includes(target.f.id), `outlined ${drawn}, want ${target.f.id}`);
    await osm.page.screenshot({ path: join(shots, 'osm-building-outline.png') });
    await scanLatin(osm.page, 'OSM city centre: a building’s grid card');
  });
  await suggestionChecksOsm(osm.page, osmBase); // issue 20, suggestions (the block above)
  await contextChecksOsm(osm.page, osmBase); // issue 20, context layers (the block above)
  await check('OSM city centre: no console errors and no request left the server', async () => {
    assert(osm.foreign.length === 0, `requests to other hosts: ${osm.foreign.join(', ')}`);
    assert(osm.errors.length === 0, osm.errors.join('\n'));
  });
  await osm.context.close();
} else {
  console.log('# WANGGE_E2E_OSM not set: the OSM city-centre checks are skipped');
}

// ---- phone --------------------------------------------------------------------------------------
let phoneStart = null;
const phone = await open({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
await check('phone: the panel is a bottom sheet and a search answers in it', async () => {
  const box = await phone.page.locator('#panel').boundingBox();
  assert(box.width >= 389 && box.y + box.height >= 843, `panel at ${JSON.stringify(box)} is not a bottom sheet`);
  await phone.page.screenshot({ path: join(shots, 'phone-start.png') });
  phoneStart = await cameraOf(phone.page);
  await phone.page.fill('#q', ADDRESS);
  await phone.page.press('#q', 'Enter');
  await phone.page.waitForFunction((code) => document.querySelector('.grid-card')?.dataset.grid === code, expectedCode, { timeout: 20_000 });
  await settle(phone.page, 'map.triggerRepaint();');
  await phone.page.waitForTimeout(400);
  await phone.page.screenshot({ path: join(shots, 'phone-address.png') });
  await scanLatin(phone.page, 'phone: grid card');
});

await check('phone: Back from the grid card returns the overview and the first view of the map', async () => {
  const p = phone.page;
  await p.click('.grid-card #back');
  await p.locator('#result .summary').waitFor({ timeout: 10_000 });
  const state = await p.evaluate(() => ({ view: window.wangge.state.view.type, grid: window.wangge.state.selectedGrid, depth: window.history.state.depth }));
  assert(state.view === 'hint' && state.grid === null && state.depth === 0, `after Back: ${JSON.stringify(state)}`);
  const now = await cameraOf(p);
  assert(phoneStart && sameCamera(now, phoneStart), `after Back the map is at ${JSON.stringify(now)}, it started at ${JSON.stringify(phoneStart)}`);
  await settle(p, 'map.triggerRepaint();');
  await p.screenshot({ path: join(shots, 'phone-back-overview.png') });
  await scanLatin(p, 'phone: overview');
  // Forward: the search's answer again, for the checks after this one.
  await p.goForward();
  await p.waitForFunction((code) => document.querySelector('.grid-card')?.dataset.grid === code, expectedCode, { timeout: 10_000 });
});

await suggestionChecksPhone(phone.page); // issue 20, suggestions (the block above)

for (const [name, s] of [['desktop', desktop], ['phone', phone]]) {
  await check(`${name}: no console errors and no request left the server (residents' flow)`, async () => {
    assert(s.foreign.length === 0, `requests to other hosts: ${s.foreign.join(', ')}`);
    assert(s.errors.length === 0, s.errors.join('\n'));
  });
}


// ==== issue 20: building cards ==================================================================
// A building's grid card a resident can keep: the stable link /b/{id} (what the placard's QR code
// holds) opens the web map on that building's grid card; the placard (楼栋公示牌) and the printed
// map (网格图) are saved for a person to look at.
{
  const id = cand.building;
  const link = await open({ viewport: { width: 1366, height: 860 }, deviceScaleFactor: 1 });
  await check('building link: /b/{id} opens that building’s grid card', async () => {
    const p = link.page;
    await p.goto(`${base}/b/${encodeURIComponent(id)}`, { waitUntil: 'load' });
    await p.waitForFunction(() => window.wangge?.ready === true, null, { timeout: 90_000 });
    await p.waitForFunction((code) => document.querySelector('.grid-card')?.dataset.grid === code, expectedCode, { timeout: 20_000 });
    const url = new URL(p.url());
    assert(url.pathname === '/' && url.searchParams.get('building') === id, `landed on ${p.url()}`);
    const shown = await p.evaluate(() => ({
      address: document.querySelector('.grid-card .address-line')?.textContent,
      building: window.wangge.state.selectedBuilding?.id,
      placard: document.querySelector('.grid-card .keep-card a.placard-pdf')?.getAttribute('href'),
      self: document.querySelector('.grid-card .keep-card a.card-link')?.getAttribute('href'),
    }));
    assert(shown.address === cand.address, `address line ${shown.address}, expected ${cand.address}`);
    assert(shown.building === id, `outlined building ${shown.building}`);
    assert(shown.placard === `/v1/buildings/${encodeURIComponent(id)}/placard.pdf`, `placard link ${shown.placard}`);
    assert(shown.self === `/b/${encodeURIComponent(id)}`, `card link ${shown.self}`);
    await settle(p, 'map.triggerRepaint();');
    await p.waitForTimeout(400);
    await p.screenshot({ path: join(shots, 'desktop-building-link.png') });
    await scanLatin(p, 'desktop: a building’s grid card from its link');
  });
  await check('building link: an unknown building says so, in Chinese', async () => {
    const p = link.page;
    const gone = await json('/b/NO-SUCH-BUILDING');
    assert(gone.status === 404 && gone.type.includes('application/problem+json') && gone.body.code === 'no_such_building', `GET /b/NO-SUCH-BUILDING: ${gone.status} ${JSON.stringify(gone.body)}`);
    // A link to a building the data no longer has (the page's own URL form).
    link.errors.length = 0;
    await p.goto(`${base}/?building=NO-SUCH-BUILDING`, { waitUntil: 'load' });
    await p.waitForFunction(() => window.wangge?.ready === true, null, { timeout: 90_000 });
    await p.waitForFunction(() => window.wangge.state.view.type === 'message', null, { timeout: 20_000 });
    const said = await p.locator('#result .notice').textContent();
    assert(/找不到这栋楼/.test(said), `the page says ${said}`);
    await scanLatin(p, 'desktop: a building link out of date');
    // The lookup's 404 is the answer being shown, not a failure.
    // (The browser logs it as a failed resource too.)
    link.errors.splice(0, link.errors.length, ...link.errors.filter((e) => !/\/v1\/lookup\?building=NO-SUCH-BUILDING/.test(e)));
  });
  await check('placard: drawn from the served version, its QR link the building’s, saved as a screenshot', async () => {
    const card = await json(`/v1/buildings/${encodeURIComponent(id)}/placard.json`);
    assert(card.status === 200, `placard.json: ${card.status}`);
    assert(card.body.grid === expectedCode, `placard grid ${card.body.grid}, expected ${expectedCode}`);
    assert(card.body.link === `${origin}/b/${encodeURIComponent(id)}`, `placard link ${card.body.link}`);
    const health = await json('/healthz');
    assert(card.body.version === health.body.version, `placard version ${card.body.version}, served ${health.body.version}`);
    for (const [path, file, type] of [
      [`/v1/buildings/${encodeURIComponent(id)}/placard.png`, 'placard.png', 'image/png'],
      [`/map/${cand.community_code}.png`, 'print-map.png', 'image/png'],
    ]) {
      const res = await fetch(base + path);
      assert(res.status === 200 && res.headers.get('content-type') === type, `${path}: ${res.status} ${res.headers.get('content-type')}`);
      writeFileSync(join(shots, file), Buffer.from(await res.arrayBuffer()));
    }
    const pdf = await fetch(`${base}/v1/buildings/${encodeURIComponent(id)}/placard.pdf`);
    assert(pdf.status === 200 && (await pdf.arrayBuffer()).byteLength > 1000, `placard.pdf: ${pdf.status}`);
    const missing = await json('/v1/buildings/NO-SUCH-BUILDING/placard.png');
    assert(missing.status === 404 && missing.body.code === 'no_such_building', `unknown building's placard: ${missing.status} ${JSON.stringify(missing.body)}`);
  });
  await check('building link: no console errors and no request left the server', async () => {
    assert(link.foreign.length === 0, `requests to other hosts: ${link.foreign.join(', ')}`);
    assert(link.errors.length === 0, link.errors.join('\n'));
  });
  await link.context.close();
}
// ==== end of issue 20: building cards ===========================================================

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
    await scanLatin(page, 'desktop: sign-in dialog, wrong token');
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
    await scanLatin(page, 'desktop: planner, a draft validated and compared');
    await page.fill('#plan-note', 'e2e: web map publish');
    await page.click('#plan-publish');
    await page.waitForFunction(() => document.getElementById('plan-status').className.includes('ok') && !document.querySelector('[data-draft]'), null, { timeout: 60_000 });
    const versions = (await json('/v1/versions')).body.versions;
    const now = versions.find((v) => v.current);
    assert(now.number > before && now.note === 'e2e: web map publish', `current version ${JSON.stringify(now)} after publishing over ${before}`);
    // MapLibre applies new tile URLs when the source has reloaded, a moment after setTiles.
    await page.waitForFunction((v) => window.wangge.map.getSource('wangge').tiles.some((t) => t.includes(`/v/${v}/tiles/`)), now.number, { timeout: 10_000 })
      .catch(() => {});
    const tiles = await page.evaluate(() => window.wangge.map.getSource('wangge').tiles);
    assert(tiles.some((t) => t.includes(`/v/${now.number}/tiles/`)), `the map's tiles were not reloaded: ${tiles}`);
    const t0 = Date.now();
    while ((await json('/healthz')).body.version !== now.number) {
      assert(Date.now() - t0 < 2000, 'the service did not switch to the published version');
      await new Promise((r) => setTimeout(r, 50));
    }
    await page.locator('#plan-versions li.current[data-version="' + now.number + '"]').waitFor();
    await settle(page, 'map.triggerRepaint();');
    await page.screenshot({ path: join(shots, 'desktop-planner-published.png') });
    await scanLatin(page, 'desktop: planner, published (versions with the service’s notes)');
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
    await scanLatin(page, 'desktop: planner, grid workers edited');
    const saved = await json(`/v1/grids/${expectedCode}/staff`);
    assert(saved.status === 200 && JSON.stringify(saved.body).includes('测试员'), `staff after saving: ${saved.status} ${JSON.stringify(saved.body)}`);
    await page.screenshot({ path: join(shots, 'desktop-planner-staff.png') });
  });

  await check('planner: life circles — every building\'s walk to a clinic drawn in bands, per-grid coverage listed', async () => {
    const api = await json('/v1/access?kind=clinic');
    assert(api.status === 200 && api.body.grids.length > 0, `GET /v1/access?kind=clinic: ${api.status}`);
    const unknown = await json('/v1/access?grid=000000000000999');
    assert(unknown.status === 404 && unknown.body.code === 'unknown_grid', `unknown grid: ${unknown.status} ${JSON.stringify(unknown.body)}`);
    await page.selectOption('#plan-access-kind', 'clinic');
    await page.click('#plan-access-show');
    await page.locator('#plan-access-grids tbody tr').first().waitFor({ timeout: 60_000 });
    const community = await page.evaluate(() => window.wangge.planner.community);
    const mine = (await json(`/v1/access?community=${community}&kind=clinic`)).body.grids.filter((g) => g.residents > 0);
    const rows = await page.locator('#plan-access-grids tbody tr').count();
    assert(rows === mine.length, `${rows} rows of grid coverage, the service has ${mine.length} grids with residents`);
    const first = await page.locator('#plan-access-grids tbody tr').first().innerText();
    const share = mine[0].kinds[0].covered_share;
    assert(first.includes(`${Math.round(share * 100)}%`), `first row "${first}" lacks the share ${share}`);
    const fc = await page.evaluate(() => window.wangge.planner.access.buildings);
    assert(fc.features.length > 100 && fc.features.every((f) => 'band' in f.properties), `${fc.features.length} buildings on the walking layer`);
    await page.evaluate(() => { const c = window.wangge.planner.communities.find((x) => x.code === window.wangge.planner.community); window.wangge.map.fitBounds([[c.box[0], c.box[1]], [c.box[2], c.box[3]]], { duration: 0 }); });
    await settle(page, 'map.triggerRepaint();');
    const drawn = await page.evaluate(() => window.wangge.map.queryRenderedFeatures({ layers: ['plan-access'] }).length);
    assert(drawn > 50, `only ${drawn} buildings drawn on the life-circle layer`);
    // A building within the 5-minute circle is drawn in the first band's green.
    const near = fc.features.filter((f) => f.properties.band === fc.access.circles[0].minutes).slice(0, 12);
    let hit = null;
    for (const f of near) {
      hit = await pixelNear(page, f.geometry.coordinates, '#1a9850', 3, 45);
      if (hit) break;
    }
    assert(near.length === 0 || hit, `no building drawn in the 5-minute green among ${near.length} within it`);
    const legend = await page.locator('#plan-access-legend').innerText();
    assert(legend.includes('5 分钟内') && legend.includes('更远或无法到达'), `legend: ${legend}`);
    await scanLatin(page, 'desktop: planner, life circles of a clinic');
    await page.screenshot({ path: join(shots, 'desktop-planner-life-circles.png') });
    await page.click('#plan-access-hide');
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
    // The file picker is a label in the page's language, not the browser's "Choose Files".
    assert(await page.locator('#plan-files-label').innerText() === '选择文件', `file picker says ${await page.locator('#plan-files-label').innerText()}`);
    assert(await page.locator('#plan-files-chosen').innerText() === '未选择任何文件', 'no files chosen yet');
    await scanLatin(page, 'desktop: planner, upload open, nothing chosen');
    await page.setInputFiles('#plan-files', broken);
    assert((await page.locator('#plan-files-chosen').innerText()).startsWith('已选择 6 个文件'), await page.locator('#plan-files-chosen').innerText());
    await page.click('#plan-upload');
    await page.locator('#plan-problems li').first().waitFor({ timeout: 30_000 });
    const problems = await page.locator('#plan-problems li').allTextContents();
    assert(problems.some((p) => p.includes('buildings.geojson features[0]') && p.includes('properties.population')), `problems shown: ${problems.join(' | ')}`);
    assert((await count()) === before, 'a rejected upload stored a dataset');
    await page.locator('#plan-problems').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'desktop-planner-upload-rejected.png') });
    await scanLatin(page, 'desktop: planner, upload rejected with its problems');

    // A GBK-encoded file (as Chinese desktop tools save it) is refused by name, not read as mojibake.
    const gbk = Buffer.concat([Buffer.from('{"type":"FeatureCollection","name":"'), Buffer.from([0xbf, 0xb5, 0xc0, 0xd6]), Buffer.from('","features":[]}')]);
    await page.setInputFiles('#plan-files', files.map((f) => (f.name === 'resources.geojson' ? { ...f, buffer: gbk } : f)));
    await page.click('#plan-upload');
    await page.waitForFunction(() => /不是 UTF-8 编码/.test(document.getElementById('plan-status').textContent), null, { timeout: 30_000 });
    assert((await page.textContent('#plan-status')).includes('resources.geojson'), await page.textContent('#plan-status'));
    assert((await count()) === before, 'a GBK upload stored a dataset');
    await scanLatin(page, 'desktop: planner, a GBK file refused');

    await page.setInputFiles('#plan-files', files);
    await page.click('#plan-upload');
    await page.waitForFunction(() => document.getElementById('plan-status').className.includes('ok') && !document.getElementById('plan-problems'), null, { timeout: 30_000 });
    const after = (await json('/v1/datasets', auth)).body.datasets;
    assert(after.length === before + 1, `datasets after the upload: ${after.length}, before ${before}`);
    const newest = after[after.length - 1];
    assert(newest.source.includes('buildings.geojson'), JSON.stringify(newest));
    assert((await page.inputValue('#plan-dataset')) === String(newest.id), 'the uploaded dataset is selected');
  });

  await check('planner: a draft with defects (a forced move) opened, validated and refused, all said in Chinese', async () => {
    const auth = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    const current = (await json('/v1/versions')).body.versions.find((v) => v.current);
    const grids = (await json(`/v1/versions/${current.number}/grids`)).body.features.filter((f) => f.properties.level === 'grid' && f.properties.kind === 'basic');
    // A building moved to the basic grid farthest from it: that grid ends in two parts.
    const middle = (f) => { const b = bbox(f); return [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2]; };
    const away = (f) => Math.hypot(middle(f)[0] - alon, middle(f)[1] - alat);
    const to = grids.reduce((a, b) => (away(b) > away(a) ? b : a)).properties;
    const moved = await json('/v1/move', { method: 'POST', headers: auth, body: JSON.stringify({ buildings: [cand.building], to: to.code, force: true }) });
    assert(moved.status === 201, `forced move: ${moved.status} ${JSON.stringify(moved.body)}`);
    const id = moved.body.draft.id;
    // The drafts list is read when the planner opens.
    await page.click('#mode-resident');
    await page.click('#mode-planner');
    await page.locator(`#plan-drafts option[value="${id}"]`).waitFor({ state: 'attached', timeout: 90_000 });
    const option = await page.locator(`#plan-drafts option[value="${id}"]`).innerText();
    assert(option.includes('手动调整楼栋'), `the draft's origin reads ${option}`);
    await page.selectOption('#plan-drafts', String(id));
    await page.click('#plan-open-draft');
    await page.locator(`[data-draft="${id}"]`).waitFor({ timeout: 20_000 });
    assert((await page.locator(`[data-draft="${id}"] [data-origin]`).innerText()).includes('手动调整楼栋'), 'the open draft shows its origin in Chinese');
    await page.click('#plan-validate');
    await page.locator('#plan-defects li').first().waitFor({ timeout: 60_000 });
    const kinds = await page.locator('#plan-defects li').evaluateAll((n) => n.map((x) => x.dataset.kind));
    assert(kinds.includes('multipart'), `defects listed: ${kinds}`);
    const words = await page.locator('#plan-defects li .defect-kind').allInnerTexts();
    assert(words.every((w) => /[\u4e00-\u9fff]/.test(w)), `defect kinds shown as ${words}`);
    await scanLatin(page, 'desktop: planner, a failed validation');
    await page.fill('#plan-note', '测试：强制调整');
    await page.click('#plan-publish');
    await page.locator('#plan-refused li').first().waitFor({ timeout: 60_000 });
    const refused = await page.locator('#plan-refused li').evaluateAll((n) => n.map((x) => x.dataset.kind));
    assert(refused.includes('multipart'), `the refusal lists ${refused}`);
    await page.locator('#plan-refused').scrollIntoViewIfNeeded();
    await settle(page, 'map.triggerRepaint();');
    await page.screenshot({ path: join(shots, 'desktop-planner-refused.png') });
    await scanLatin(page, 'desktop: planner, publish refused for defects');
    assert((await json('/v1/versions')).body.versions.find((v) => v.current).number === current.number, 'the draft with defects was published');
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
    await scanLatin(p, 'phone: planner, a draft validated');
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
    // Smaller grids move many residents: the planner confirms the largest moves in a dialog.
    await p.locator('#plan-moves-dialog[open]').waitFor({ timeout: 60_000 });
    await p.locator('#plan-moves-confirm').tap();
    await p.waitForFunction(() => document.getElementById('plan-status').className.includes('ok') && !document.querySelector('[data-draft]'), null, { timeout: 60_000 });
    const now = (await json('/v1/versions')).body.versions.find((v) => v.current);
    assert(now.note.startsWith('e2e: smaller grids [published with no grid worker yet in '), `current version note: ${now.note}`);
    const unexpected = phone.errors.slice(before).filter((e) => !/\/collections\/communities/.test(e) && !(/\b422\b/.test(e) && /\/publish$/.test(e)));
    assert(unexpected.length === 0, unexpected.join('\n'));
  });

  await checkDiffView();
}

// ---- planner: the diff view, residents' notices, a large move confirmed (diffview.js) -----------
async function checkDiffView() {
  const auth = { Authorization: `Bearer ${token}` };
  let draftId;
  await check('planner: the diff shows old (dashed) and new borders, grids and micro-grids apart, and a sortable list of moves', async () => {
    // From scratch at the usual bounds over the current (smaller) grids: most of Kangle moves.
    await page.fill('#plan-min', '1500');
    await page.fill('#plan-max', '2000');
    const before = await page.locator('[data-draft]').getAttribute('data-draft').catch(() => null);
    await page.click('#plan-partition');
    await page.waitForFunction((b) => { const d = document.querySelector('[data-draft]'); return d && d.dataset.draft !== b; }, before, { timeout: 120_000 });
    draftId = await page.locator('[data-draft]').getAttribute('data-draft');
    await page.click('#plan-diff');
    await page.locator('#plan-diff-table tbody tr').first().waitFor({ timeout: 30_000 });
    const diff = (await json(`/v1/drafts/${draftId}/diff`, { headers: auth })).body;
    assert(diff.grids.length > 3 && diff.micro_grids.length > 3, `diff lists ${diff.grids.length} grids, ${diff.micro_grids.length} micro-grids`);
    const rows = await page.locator('#plan-diff-table tbody tr').count();
    assert(rows === diff.grids.length, `the table lists ${rows} grids, the diff ${diff.grids.length}`);
    // Old borders dashed and new borders solid, both drawn.
    await settle(page, 'map.triggerRepaint();');
    const drawn = await page.evaluate(() => {
      const m = window.wangge.map;
      return {
        old: m.queryRenderedFeatures({ layers: ['plan-old-line'] }).length,
        now: m.queryRenderedFeatures({ layers: ['plan-line'] }).length,
        changed: m.queryRenderedFeatures({ layers: ['plan-diff-fill'] }).length,
        dash: m.getPaintProperty('plan-old-line', 'line-dasharray'),
      };
    });
    assert(drawn.old > 0 && drawn.now > 0 && drawn.changed > 0, `borders drawn: ${JSON.stringify(drawn)}`);
    assert(Array.isArray(drawn.dash) && drawn.dash.length === 2, `old borders are not dashed: ${JSON.stringify(drawn.dash)}`);
    await page.locator('#plan-diff-view').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'desktop-planner-diff.png') });
    await scanLatin(page, 'desktop: planner, diff view');
    // Sorted by residents in: the grid taking in the most comes first.
    await page.click('#plan-diff-table th[data-sort="in"]');
    const top = await page.locator('#plan-diff-table tbody tr').first().getAttribute('data-code');
    const most = Math.max(...diff.grids.map((g) => g.residents_in));
    assert(diff.grids.find((g) => g.code === top)?.residents_in === most, `first row ${top} is not the grid taking in most (${most})`);
    // Micro-grids apart: their own list, their old borders.
    await page.click('#plan-diff-level-micro');
    await page.waitForFunction((n) => document.querySelectorAll('#plan-diff-table tbody tr').length === n, diff.micro_grids.length, { timeout: 10_000 });
    const filter = await page.evaluate(() => JSON.stringify(window.wangge.map.getFilter('plan-old-line')));
    assert(filter.includes('micro'), `old borders at the micro level: ${filter}`);
    const microDash = await page.evaluate(() => window.wangge.map.getPaintProperty('plan-micro', 'line-dasharray'));
    assert(microDash === undefined || microDash === null, `new micro-grid borders are dashed like the old ones: ${JSON.stringify(microDash)}`);
    const microDrawn = await page.evaluate(() => window.wangge.map.queryRenderedFeatures({ layers: ['plan-micro'] }).length);
    assert(microDrawn > 0, 'new micro-grid borders are not drawn at this zoom');
    await settle(page, 'map.triggerRepaint();');
    await page.screenshot({ path: join(shots, 'desktop-planner-diff-micro.png') });
    await scanLatin(page, 'desktop: planner, diff view of micro-grids');
    await page.click('#plan-diff-level-grid');
  });

  await check('planner: residents\' notices drafted from the diff (text per building, PDF)', async () => {
    assert(draftId, 'no draft from the check before');
    await page.fill('#plan-notice-date', '2026-12-15');
    await page.dispatchEvent('#plan-notice-date', 'change');
    await page.click('#plan-notices-load');
    await page.locator('.dv-notice-list li').first().waitFor({ timeout: 30_000 });
    const api = (await json(`/v1/drafts/${draftId}/notices?format=json&from=2026-12-15`, { headers: auth })).body;
    const shown = await page.locator('.dv-notice-list').getAttribute('data-count');
    assert(Number(shown) === api.notices.length && api.notices.length > 0, `page shows ${shown} notices, the service ${api.notices.length}`);
    const first = await page.locator('.dv-notice-list li .dv-notice-text').first().innerText();
    assert(first.startsWith('自2026年12月15日起，') && first === api.notices[0].text, `first notice: ${first}`);
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 180_000 }), page.click('#plan-notices-pdf')]);
    const chunks = [];
    for await (const c of await download.createReadStream()) chunks.push(c);
    const pdf = Buffer.concat(chunks);
    assert(pdf.subarray(0, 5).toString() === '%PDF-', `the download is not a PDF: ${pdf.subarray(0, 16)}`);
    await page.locator('#plan-notices').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'desktop-planner-notices.png') });
    await scanLatin(page, 'desktop: planner, residents\' notices');
  });

  await check('planner: a large move is published only after the planner confirms it in a dialog', async () => {
    assert(draftId, 'no draft from the check before');
    const current = () => json('/v1/versions').then((r) => r.body.versions.find((v) => v.current));
    const before = await current();
    await page.fill('#plan-note', 'e2e: fresh partition');
    await page.click('#plan-publish');
    const next = page.locator('#plan-unstaffed, #plan-moves-dialog[open]').first();
    await next.waitFor({ timeout: 60_000 });
    if (await page.locator('#plan-unstaffed').count()) await page.click('#plan-publish-unstaffed');
    await page.locator('#plan-moves-dialog[open]').waitFor({ timeout: 60_000 });
    const largest = await page.locator('#plan-moves-dialog tbody tr').count();
    assert(largest > 0, 'the dialog lists no moves');
    await page.screenshot({ path: join(shots, 'desktop-planner-large-moves.png') });
    await scanLatin(page, 'desktop: planner, large-move dialog');
    // Going back publishes nothing.
    await page.click('#plan-moves-cancel');
    await page.waitForFunction(() => !document.getElementById('plan-moves-dialog'), null, { timeout: 10_000 });
    assert((await current()).number === before.number, 'published without confirming');
    // Confirmed: published, the note says so (in Chinese on the page).
    await page.click('#plan-publish');
    await page.locator('#plan-unstaffed, #plan-moves-dialog[open]').first().waitFor({ timeout: 60_000 });
    if (!(await page.locator('#plan-moves-dialog[open]').count())) await page.click('#plan-publish-unstaffed');
    await page.locator('#plan-moves-dialog[open]').waitFor({ timeout: 60_000 });
    await page.click('#plan-moves-confirm');
    await page.waitForFunction(() => document.getElementById('plan-status').className.includes('ok') && !document.querySelector('[data-draft]'), null, { timeout: 60_000 });
    const now = await current();
    assert(now.number > before.number && now.note.includes('[large moves confirmed: '), `current version after confirming: ${JSON.stringify(now)}`);
    await page.locator(`#plan-versions li[data-version="${now.number}"]`).waitFor();
    const note = await page.locator(`#plan-versions li[data-version="${now.number}"] .v-note`).innerText();
    assert(note.includes('已确认大范围调整'), `the version note reads ${note}`);
    await scanLatin(page, 'desktop: planner, published after confirming a large move');
    // The fresh partition took its codes by the stability rule: a code carried over names a grid
    // holding at least half of the old grid's residents and making up at least half of its own.
    const people = new Map((await json('/collections/buildings/items?limit=10000')).body.features.map((f) => [String(f.id ?? f.properties.id), f.properties.population || 0]));
    const grids = async (n) => (await json(`/v1/versions/${n}/grids`)).body.features
      .filter((f) => f.properties.level === 'grid')
      .map((f) => [f.properties.code, new Set(f.properties.buildings.map((b) => String(b).split('#')[0]))]);
    const [was, is] = [await grids(before.number), await grids(now.number)];
    const sum = (ids) => [...ids].reduce((a, i) => a + (people.get(i) || 0), 0);
    let kept = 0;
    for (const [code, ids] of is) {
      const old = was.find(([c]) => c === code);
      if (!old) continue;
      const shared = sum([...ids].filter((i) => old[1].has(i)));
      assert(2 * shared >= sum(old[1]) && 2 * shared >= sum(ids), `fresh partition gave ${code} to other residents: ${shared} shared of ${sum(old[1])} old and ${sum(ids)} new`);
      kept += 1;
    }
    assert(kept >= 1, `no code carried over the fresh partition: ${is.map(([c]) => c)}`);
  });
}

await check('planner: no unexpected errors and no request left the server', async () => {
  // Expected: the wrong token's 401, the OGC communities collection where it does not exist yet,
  // and the rejected uploads' 422 and 400.
  const rejectedUpload = (e) => /\b(400|422)\b/.test(e) && /\/v1\/datasets\s*$/.test(e);
  const refusedPublish = (e) => /\b422\b/.test(e) && /\/v1\/drafts\/\d+\/publish\s*$/.test(e);
  const unexpected = desktop.errors.slice(residentErrors).filter((e) => !/\/v1\/auth|\b401\b|\/collections\/communities/.test(e) && !rejectedUpload(e) && !refusedPublish(e));
  assert(desktop.foreign.length === 0, `requests to other hosts: ${desktop.foreign.join(', ')}`);
  assert(unexpected.length === 0, unexpected.join('\n'));
});

await check('Chinese mode: no Latin-script text in any view walked through (panel, sheet, planner, dialog, legend, errors)', async () => {
  const want = ['desktop: grid card', 'desktop: service card', 'phone: overview', 'desktop: planner, upload rejected with its problems',
    'desktop: planner, a GBK file refused', 'desktop: planner, a failed validation', 'desktop: planner, publish refused for defects', 'desktop: sign-in dialog, wrong token',
    'desktop: planner, diff view', 'desktop: planner, large-move dialog'];
  if (osmBase) want.push('OSM city centre: grid card');
  const seen = latinScans.map((x) => x.view);
  const missing = want.filter((v) => !seen.includes(v));
  const found = latinScans.filter((x) => x.found.length).map((x) => `${x.view}:\n    ${x.found.join('\n    ')}`);
  assert(!found.length && !missing.length, [
    found.length ? `Latin text in the Chinese page:\n  ${found.join('\n  ')}` : '',
    missing.length ? `views never scanned (an earlier check failed before them): ${missing.join('; ')}` : ''].join('\n'));
  console.log(`  ${latinScans.length} views scanned`);
});

await browser.close();
console.log(`\nscreenshots: ${shots}`);
console.log(`${passed} passed, ${failed} failed`);
if (failed) console.log(`failed: ${failures.join('; ')}`);
process.exit(failed ? 1 : 0);
