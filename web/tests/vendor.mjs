// Keeps web/vendor/ equal to the pinned maplibre-gl's dist files (and pmtiles.js, the pinned pmtiles
// package's browser build, which the static web map of `wangge tiles export --static` loads) (the binary embeds vendor/, so a
// fresh clone needs no npm). `node tests/vendor.mjs` checks; `--update` copies them after a
// version bump in package.json and `npm install` (then update ?v= in index.html too).

import { readFileSync, copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(web, 'node_modules/maplibre-gl/dist');
const files = ['maplibre-gl.js', 'maplibre-gl.css', 'LICENSE.txt'];
const pinned = JSON.parse(readFileSync(join(web, 'package.json'), 'utf8')).dependencies['maplibre-gl'];
const installed = JSON.parse(readFileSync(join(web, 'node_modules/maplibre-gl/package.json'), 'utf8')).version;
if (installed !== pinned) {
  console.error(`node_modules has maplibre-gl ${installed}, package.json pins ${pinned}: run npm ci`);
  process.exit(1);
}
let bad = 0;
for (const f of files) {
  if (process.argv.includes('--update')) copyFileSync(join(dist, f), join(web, 'vendor', f));
  else if (!readFileSync(join(dist, f)).equals(readFileSync(join(web, 'vendor', f)))) {
    console.error(`vendor/${f} differs from maplibre-gl ${pinned}`);
    bad += 1;
  }
}
if (!readFileSync(join(web, 'index.html'), 'utf8').includes(`?v=${pinned}"`)) {
  console.error(`index.html does not load the vendored files with ?v=${pinned}`);
  bad += 1;
}
// pmtiles: its browser build (an IIFE defining the global `pmtiles`), byte for byte.
const pmPinned = JSON.parse(readFileSync(join(web, 'package.json'), 'utf8')).dependencies.pmtiles;
const pmInstalled = JSON.parse(readFileSync(join(web, 'node_modules/pmtiles/package.json'), 'utf8')).version;
if (pmInstalled !== pmPinned) {
  console.error(`node_modules has pmtiles ${pmInstalled}, package.json pins ${pmPinned}: run npm ci`);
  process.exit(1);
}
const pmDist = join(web, 'node_modules/pmtiles/dist/pmtiles.js');
if (process.argv.includes('--update')) copyFileSync(pmDist, join(web, 'vendor', 'pmtiles.js'));
else if (!readFileSync(pmDist).equals(readFileSync(join(web, 'vendor', 'pmtiles.js')))) {
  console.error(`vendor/pmtiles.js differs from pmtiles ${pmPinned}`);
  bad += 1;
}
console.log(bad ? `${bad} vendored files out of date` : `vendor/ is maplibre-gl ${pinned}`);
process.exit(bad ? 1 : 0);
