// End-to-end test of the web map as a static folder (`wangge tiles export --static DIR`) served by
// a plain static file server (nginx in api/tests/web.rs), in headless Chromium:
//
//   node web/tests/static.mjs http://127.0.0.1:PORT LON LAT GRID_CODE [API_URL]
//
// Checks: the page loads with no console errors and no request to a host other than the folder's
// (and the API's); the tiles come from the PMTiles archive by range requests (never /tiles/); at
// LON LAT the map draws grid GRID_CODE with its fill colour; with API_URL, a click there asks the
// service and the panel names the grid. Screenshot: out/screenshots/static-*.png (or $SCREENSHOTS).

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const [site, lonArg, latArg, code, apiUrl] = process.argv.slice(2);
if (!site || !code) {
  console.error('usage: node web/tests/static.mjs http://127.0.0.1:PORT LON LAT GRID_CODE [API_URL]');
  process.exit(2);
}
const [lon, lat] = [Number(lonArg), Number(latArg)];
const here = dirname(fileURLToPath(import.meta.url));
const shots = resolve(process.env.SCREENSHOTS || join(here, '../../out/screenshots'));
mkdirSync(shots, { recursive: true });

let failed = 0;
async function check(name, f) {
  try {
    await f();
    console.log(`ok - ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${name}\n  ${String(e?.stack || e).split('\n').join('\n  ')}`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--enable-unsafe-swiftshader'],
});
const allowed = new Set([new URL(site).origin, ...(apiUrl ? [new URL(apiUrl).origin] : [])]);
const context = await browser.newContext({ locale: 'zh-CN' });
const foreign = [];
const errors = [];
const requests = [];
await context.route('**/*', (route) => {
  const url = route.request().url();
  if (url.startsWith('data:') || url.startsWith('blob:') || allowed.has(new URL(url).origin)) {
    requests.push({ url, range: route.request().headers().range || null });
    return route.continue();
  }
  foreign.push(url);
  return route.abort('blockedbyclient');
});
const page = await context.newPage();
page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`); });

await check('the static page loads and the map settles', async () => {
  await page.goto(`${site}/`, { waitUntil: 'load' });
  await page.waitForFunction(() => window.wangge?.ready === true, null, { timeout: 90_000 });
});

await check(`the map draws grid ${code} at ${lon},${lat} in its fill colour, from the archive`, async () => {
  const got = await page.evaluate(async ([ll]) => {
    const map = window.wangge.map;
    const saved = map.getStyle().layers.map((l) => [l.id, map.getLayoutProperty(l.id, 'visibility') || 'visible']);
    for (const [id] of saved) if (id !== 'background' && id !== 'grid-fill') map.setLayoutProperty(id, 'visibility', 'none');
    const idle = new Promise((r) => map.once('idle', r));
    map.jumpTo({ center: ll, zoom: 16, padding: { left: 0, right: 0, top: 0, bottom: 0 } });
    map.triggerRepaint();
    await Promise.race([idle, new Promise((r) => setTimeout(r, 20_000))]);
    const p = map.project(ll);
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
    for (const [id, v] of saved) map.setLayoutProperty(id, 'visibility', v);
    return { px, props: feats[0]?.properties, fill, opacity, bg, source: map.getStyle().sources.wangge };
  }, [[lon, lat]]);
  assert(got.source.url.startsWith('pmtiles://'), `the source is not the archive: ${JSON.stringify(got.source)}`);
  assert(got.props?.code === code, `the grid drawn there is ${got.props?.code}, not ${code}`);
  let colour = got.fill[got.fill.length - 1];
  for (let i = 2; i + 1 < got.fill.length; i += 2) if (got.fill[i] === got.props.colour) colour = got.fill[i + 1];
  const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const [f, b] = [rgb(colour), rgb(got.bg)];
  const want = f.map((c, i) => Math.round(c * got.opacity + b[i] * (1 - got.opacity)));
  const off = Math.max(...want.map((c, i) => Math.abs(c - got.px[i])));
  assert(off <= 4, `pixel ${got.px.slice(0, 3)} is not the grid's fill ${colour} (want ${want}, off by ${off})`);
  const archive = requests.filter((r) => r.url.includes('.pmtiles'));
  assert(archive.length > 0 && archive.every((r) => r.range), `the archive is read by range requests: ${JSON.stringify(archive.slice(0, 3))}`);
  assert(!requests.some((r) => /\/tiles\/\d+\//.test(r.url)), 'a tile was asked of a tile server');
  await page.screenshot({ path: join(shots, 'static-map.png') });
});

if (apiUrl) {
  await check('a click asks the service at --api-url and the panel names the grid', async () => {
    const p = await page.evaluate(([ll]) => {
      const q = window.wangge.map.project(ll);
      const r = window.wangge.map.getCanvas().getBoundingClientRect();
      return [r.left + q.x, r.top + q.y];
    }, [[lon, lat]]);
    await page.mouse.click(p[0], p[1]);
    await page.waitForFunction((c) => document.getElementById('result')?.textContent.includes(c), code, { timeout: 20_000 });
    assert(requests.some((r) => r.url.startsWith(`${apiUrl}/v1/lookup`)), 'no lookup went to the API');
    await page.screenshot({ path: join(shots, 'static-lookup.png') });
  });
}

await check('no console errors, nothing from other hosts', async () => {
  assert(errors.length === 0, errors.join('\n'));
  assert(foreign.length === 0, `requests to other hosts: ${foreign.join(', ')}`);
});

await browser.close();
console.log(failed ? `${failed} static web map checks failed` : 'static web map: all checks passed');
process.exit(failed ? 1 : 0);
