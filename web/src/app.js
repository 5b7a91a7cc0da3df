// The residents' map: grids with their codes over the service's own tiles and style; an address
// search, a click or "locate me" answers with the grid, its workers and the nearest clinic,
// pharmacy and shop; resource icons with a legend that filters them. Planner mode is planner.js.

import { t, kindName, KNOWN_KINDS, setLang, getLang, onLangChange, applyStatic, walkingOf, number, errorText, roleName } from './i18n.js';
import { api, el, reloadTiles, ApiError, labelPoint, contains, bbox, staticArchive, apiBase } from './util.js';
import { initPlanner } from './planner.js';

const maplibregl = window.maplibregl;
const $ = (id) => document.getElementById(id);
const narrow = window.matchMedia('(max-width: 720px)');

// What the panel shows now; rendered again when the language changes.
const state = {
  view: { type: 'hint' },
  kinds: null, // enabled resource kinds; null = all
  spriteKinds: [],
  statusColours: {},
};

applyStatic();

/** A static folder's style (`wangge tiles export --static`): its URLs made absolute here, the
 * tiles read from the PMTiles archive through the pmtiles protocol (vendor/pmtiles.js). */
async function staticStyle() {
  const here = (p) => new URL(p, location.href).href;
  maplibregl.addProtocol('pmtiles', new window.pmtiles.Protocol().tile);
  const style = await (await fetch(here('style.json'))).json();
  style.sources.wangge = { type: 'vector', url: `pmtiles://${here(staticArchive)}` };
  style.glyphs = `${here('fonts/')}{fontstack}/{range}.pbf`;
  style.sprite = here('sprites/sprite');
  return style;
}

const map = new maplibregl.Map({
  container: 'map',
  style: staticArchive ? await staticStyle() : new URL('/style.json', location.href).href,
  attributionControl: false,
  // Keeps the last frame readable: the e2e test reads pixels, and a resident can save the view.
  canvasContextAttributes: { preserveDrawingBuffer: true, antialias: true },
  // Chinese labels are drawn from the device's own fonts (our glyph server has Latin only).
  localIdeographFontFamily: '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif',
  dragRotate: false,
  pitchWithRotate: false,
  maxPitch: 0,
  cooperativeGestures: false,
});
map.touchZoomRotate.disableRotation();
map.keyboard.disableRotation();
map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
map.addControl(new maplibregl.ScaleControl({ unit: 'metric', maxWidth: 120 }), 'bottom-right');
const attribution = new maplibregl.AttributionControl({ compact: true });
map.addControl(attribution, 'bottom-right');
/** The tiles credit "wangge"; the page says who publishes the grids, in its language. */
function attributionInLanguage() {
  const src = map.getSource('wangge');
  if (!src) return;
  src.attribution = t('attribution');
  // MapLibre (pinned, vendored) reads sources' attributions when the style or a source changes.
  attribution._updateAttributions?.();
}
map.on('load', attributionInLanguage);
// New tiles after a publish read the TileJSON again, and its credit with it.
map.on('sourcedata', (e) => {
  if (e.sourceId === 'wangge' && e.sourceDataType === 'metadata' && map.getSource('wangge')?.attribution !== t('attribution')) attributionInLanguage();
});
// MapLibre's scale bar says "m" and "km": in the page's language (it rewrites it on every move).
function scaleInLanguage() {
  const node = document.querySelector('.maplibregl-ctrl-scale');
  if (!node || getLang() !== 'zh') return;
  const text = node.textContent.replace(/\u00a0/g, ' ');
  const m = /^([\d.]+)\s*(km|m)$/.exec(text.trim());
  if (m) node.textContent = `${m[1]} ${m[2] === 'km' ? '公里' : '米'}`;
}
map.on('move', scaleInLanguage);
map.on('load', scaleInLanguage);

// For tests and for a planner's console: the map and what the page knows.
window.wangge = { map, state, ready: false };

const marker = new maplibregl.Marker({ element: el('div.here', el('span')), anchor: 'center' });

/** Room the panel and legend take over the map, so flights land in the visible part. */
function padding() {
  if (narrow.matches) {
    const sheet = $('panel').getBoundingClientRect();
    return { top: 60, left: 30, right: 30, bottom: Math.min(window.innerHeight * 0.6, window.innerHeight - sheet.top) + 20 };
  }
  const legend = $('legend').getBoundingClientRect();
  const right = $('legend').classList.contains('closed') ? 80 : window.innerWidth - legend.left + 20;
  return { top: 40, bottom: 40, left: $('panel').getBoundingClientRect().right + 30, right };
}

map.on('load', async () => {
  // Resident density under the grids mottles their calm fills: planners only (planner.js).
  if (map.getLayer('density')) map.setLayoutProperty('density', 'visibility', 'none');
  addSelectionLayers();
  readStatusColours();
  state.resourceFilter = map.getFilter('resources') ?? null;
  try {
    const tj = staticArchive ? await (await fetch(new URL('tiles.json', location.href))).json() : await api('/tiles.json');
    if (Array.isArray(tj?.resource_kinds)) state.dataKinds = tj.resource_kinds;
    if (Array.isArray(tj?.context_layers)) state.contextLayers = tj.context_layers;
    state.searchExample = typeof tj?.search_example === 'string' ? tj.search_example : null;
    searchPlaceholder();
    if (tj?.bounds) map.fitBounds([[tj.bounds[0], tj.bounds[1]], [tj.bounds[2], tj.bounds[3]]], { padding: padding(), animate: false, maxZoom: 16.5 });
  } catch { /* the style's own centre stands */ }
  await buildLegend();
  labelsForLanguage();
  map.once('idle', () => { window.wangge.ready = true; });
  // A link can carry an address (/?q=嘉禾公寓3号楼) or a building: /?building=ID, where the
  // placard's QR code (/b/ID) leads.
  const params = new URLSearchParams(location.search);
  const q = params.get('q');
  const building = params.get('building');
  if (building) openBuilding(building);
  else if (q) {
    $('q').value = q;
    searchAddress(q);
  }
});

/** A building's grid card, by its id (the stable link /b/{id} and its QR code open this). */
async function openBuilding(id) {
  selectResource(null);
  show({ type: 'loading' });
  try {
    const answer = await api(`/v1/lookup?building=${encodeURIComponent(id)}`);
    await chooseCandidate(answer.candidates[0]);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) show({ type: 'message', key: 'no_building' });
    else show({ type: 'message', key: 'error', vars: { detail: errorText(e) } });
  }
}
window.wangge.openBuilding = openBuilding;

// The selection's colours: a vivid blue for the chosen grid (the community line is a thin dark
// slate), red for the searched building and the chosen service, as AMap and Baidu mark them.
const SELECTED_GRID = '#1c7ed6';
const SELECTED_PLACE = '#e03131';
const emptyFc = { type: 'FeatureCollection', features: [] };
const NO_GRID = ['==', ['get', 'code'], '\u0000'];

/** The selection, drawn over the style's lines, under the icons and labels: the chosen grid
 * (the rest of the map veiled, a white halo under a wide blue line), the searched building
 * (outlined in red and labelled with its address) and a ring under the chosen service's icon. */
function addSelectionLayers() {
  const before = map.getLayer('resources') ? 'resources' : undefined;
  const width = (a, b) => ['interpolate', ['linear'], ['zoom'], 12, a, 17, b];
  map.addLayer({
    id: 'selected-grid-mask', type: 'fill', source: 'wangge', 'source-layer': 'grids', filter: NO_GRID,
    paint: { 'fill-color': '#ffffff', 'fill-opacity': 0.5 },
  }, before);
  map.addLayer({
    id: 'selected-grid-fill', type: 'fill', source: 'wangge', 'source-layer': 'grids', filter: NO_GRID,
    paint: { 'fill-color': SELECTED_GRID, 'fill-opacity': 0.06 },
  }, before);
  map.addLayer({
    id: 'selected-grid-halo', type: 'line', source: 'wangge', 'source-layer': 'grids', filter: NO_GRID,
    layout: { 'line-join': 'round' },
    paint: { 'line-color': '#ffffff', 'line-width': width(6, 11), 'line-opacity': 0.9 },
  }, before);
  map.addLayer({
    id: 'selected-grid-line', type: 'line', source: 'wangge', 'source-layer': 'grids', filter: NO_GRID,
    layout: { 'line-join': 'round' },
    paint: { 'line-color': SELECTED_GRID, 'line-width': width(3, 5.5) },
  }, before);
  map.addSource('selected-building', { type: 'geojson', data: emptyFc });
  map.addLayer({ id: 'selected-building-fill', type: 'fill', source: 'selected-building',
    paint: { 'fill-color': SELECTED_PLACE, 'fill-opacity': 0.28 } }, before);
  map.addLayer({ id: 'selected-building-halo', type: 'line', source: 'selected-building',
    layout: { 'line-join': 'round' }, paint: { 'line-color': '#ffffff', 'line-width': 6 } }, before);
  map.addLayer({ id: 'selected-building-line', type: 'line', source: 'selected-building',
    layout: { 'line-join': 'round' }, paint: { 'line-color': SELECTED_PLACE, 'line-width': 3 } }, before);
  map.addSource('selected-building-label', { type: 'geojson', data: emptyFc });
  map.addLayer({ id: 'selected-building-label', type: 'symbol', source: 'selected-building-label',
    // Above the building, clear of its outline and the marker inside it.
    layout: { 'text-field': ['get', 'label'], 'text-font': ['DejaVu Sans Bold'], 'text-size': 13,
      'text-allow-overlap': true, 'text-max-width': 12, 'text-anchor': 'bottom', 'text-offset': [0, -0.4] },
    paint: { 'text-color': '#a51d1d', 'text-halo-color': '#ffffff', 'text-halo-width': 2 } });
  // The walk to the chosen service, from where the card was asked for.
  map.addSource('walk-route', { type: 'geojson', data: emptyFc });
  map.addLayer({ id: 'walk-route-halo', type: 'line', source: 'walk-route',
    layout: { 'line-join': 'round', 'line-cap': 'round' }, paint: { 'line-color': '#ffffff', 'line-width': 7 } }, before);
  map.addLayer({ id: 'walk-route-line', type: 'line', source: 'walk-route',
    layout: { 'line-join': 'round', 'line-cap': 'round' },
    paint: { 'line-color': SELECTED_PLACE, 'line-width': 4, 'line-dasharray': [1.5, 1] } }, before);
  map.addSource('selected-resource', { type: 'geojson', data: emptyFc });
  map.addLayer({ id: 'selected-resource-halo', type: 'circle', source: 'selected-resource',
    paint: { 'circle-radius': 17, 'circle-color': SELECTED_PLACE, 'circle-opacity': 0.18,
      'circle-stroke-color': SELECTED_PLACE, 'circle-stroke-width': 3 } }, before);
}

const SELECTED_GRID_LAYERS = ['selected-grid-fill', 'selected-grid-halo', 'selected-grid-line'];

function selectGrid(code) {
  state.selectedGrid = code || null;
  const f = code ? ['==', ['get', 'code'], code] : NO_GRID;
  for (const id of SELECTED_GRID_LAYERS) if (map.getLayer(id)) map.setFilter(id, f);
  if (map.getLayer('selected-grid-mask')) map.setFilter('selected-grid-mask', code ? ['!=', ['get', 'code'], code] : NO_GRID);
}

/** Outlines a building (a GeoJSON feature of /collections/buildings) and labels it with its
 * address; null clears it. */
function selectBuilding(feature) {
  state.selectedBuilding = feature || null;
  if (!map.getSource('selected-building')) return;
  map.getSource('selected-building').setData(feature ? { type: 'FeatureCollection', features: [feature] } : emptyFc);
  const inside = feature?.geometry && labelPoint(feature.geometry);
  const box = feature?.geometry && bbox([feature]);
  const at = inside && box && [inside[0], box[3]];
  // Its address, or its name; a building with neither is "this building", never its data id.
  const named = feature?.properties?.address || feature?.properties?.name;
  const label = named ? shortAddress(named) : t('this_building');
  map.getSource('selected-building-label').setData(at
    ? { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { label, id: feature.id }, geometry: { type: 'Point', coordinates: at } }] }
    : emptyFc);
}

/** A building's label on the map: its address without the district and community the map
 * already shows ("湖里区康乐社区嘉禾公寓3号楼" → "嘉禾公寓3号楼"). */
function shortAddress(address) {
  return String(address).replace(/^.*?(区|县|市)/, '').replace(/^.*?(社区|村委会|居委会)/, '') || String(address);
}

/** Rings a chosen service's icon; it stays ringed until another is chosen or a new place is
 * looked up. */
function selectResource(r) {
  state.selectedResource = r || null;
  map.getSource('walk-route')?.setData(r?.route
    ? { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { id: r.id, walk_m: r.walk_m }, geometry: r.route }] }
    : emptyFc);
  if (!map.getSource('selected-resource')) return;
  map.getSource('selected-resource').setData(r?.location
    ? { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { id: r.id, kind: r.kind }, geometry: { type: 'Point', coordinates: r.location } }] }
    : emptyFc);
}

/** The building a point falls in (from /collections/buildings, by a small box around it), or null. */
async function buildingAt(lon, lat) {
  const d = 0.0004;
  try {
    const fc = await api(`/collections/buildings/items?bbox=${lon - d},${lat - d},${lon + d},${lat + d}&limit=100`);
    return fc.features.find((f) => contains(f.geometry, [lon, lat])) || null;
  } catch {
    return null;
  }
}

async function buildingById(id) {
  try {
    return await api(`/collections/buildings/items/${encodeURIComponent(id)}`);
  } catch {
    return null;
  }
}

/** The style's grid fills, for the legend: the residents' colours (a `match` on `colour`:
 * neighbouring grids apart) and the planners' status fill (a `match` on `status`, in the
 * layer's metadata). */
function readStatusColours() {
  const fill = map.getPaintProperty('grid-fill', 'fill-color');
  state.residentFill = fill;
  state.gridColours = Array.isArray(fill) && fill[0] === 'match'
    ? [...fill.slice(2).filter((_, i) => i % 2 === 1), fill[fill.length - 1]].filter((c) => typeof c === 'string')
    : [];
  const status = map.getStyle().layers.find((l) => l.id === 'grid-fill')?.metadata?.['wangge:status-fill'];
  state.statusFill = status;
  const colours = {};
  if (Array.isArray(status) && status[0] === 'match') {
    for (let i = 2; i + 1 < status.length; i += 2) colours[status[i]] = status[i + 1];
    colours.inside = status[status.length - 1];
  }
  state.statusColours = colours;
  state.gridOpacity = map.getPaintProperty('grid-fill', 'fill-opacity') ?? 0.55;
}

/** Grid labels in the page's language: "003 / 1847 人" or "003 / 1847 residents" (with the
 * community's name where the map holds several); an exclusive grid shows its institution's
 * name. The style's own expression, with the unit swapped. */
function labelsForLanguage() {
  // An unnamed resource is labelled with its kind, in the page's language.
  if (map.getLayer('resources')) {
    const names = ['match', ['get', 'kind']];
    for (const kind of KNOWN_KINDS) names.push(kind, kindName(kind));
    names.push(kindName('other'));
    map.setLayoutProperty('resources', 'text-field', ['step', ['zoom'], '', 16, ['coalesce', ['get', 'name'], names]]);
  }
  if (!map.getLayer('grid-label')) return;
  state.gridLabelField ??= map.getLayoutProperty('grid-label', 'text-field');
  const unit = getLang() === 'zh' ? ' 人' : ' residents';
  const swap = (v) => (Array.isArray(v) ? v.map(swap) : v === ' 人' ? unit : v);
  map.setLayoutProperty('grid-label', 'text-field', swap(state.gridLabelField));
}

// ---- legend and resource filters ---------------------------------------------------------------

async function buildLegend() {
  const body = $('legend-body');
  let sprite = {};
  try { sprite = await api('/sprites/sprite@2x.json'); } catch { /* icons without pictures */ }
  const sheet = await new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve({ w: img.naturalWidth, h: img.naturalHeight });
    img.onerror = () => resolve(null);
    img.src = '/sprites/sprite@2x.png';
  });
  // The legend lists what the served data holds (every kind with its icon; other kinds as one
  // "other" entry), or every icon when the service does not say.
  const known = Object.keys(sprite).filter((k) => k !== 'dot');
  const present = state.dataKinds || known;
  const others = present.filter((k) => !known.includes(k));
  state.legendKinds = [
    ...known.filter((k) => present.includes(k)).map((k) => ({ key: k, kinds: [k] })),
    ...(others.length ? [{ key: 'other', kinds: others }] : []),
  ];
  state.spriteKinds = state.legendKinds.map((e) => e.key);
  state.sprite = sprite;
  state.sheet = sheet;
  renderLegend();
  if (narrow.matches) toggleLegend(false);
}

export function iconFor(kind, size = 20) {
  const s = state.sprite?.[kind] || state.sprite?.dot;
  const node = el('span.icon', { 'aria-hidden': 'true' });
  if (s && state.sheet) {
    const k = size / (s.width / s.pixelRatio) / s.pixelRatio;
    Object.assign(node.style, {
      width: `${size}px`, height: `${size}px`,
      backgroundImage: 'url(/sprites/sprite@2x.png)',
      backgroundSize: `${state.sheet.w * k}px ${state.sheet.h * k}px`,
      backgroundPosition: `-${s.x * k}px -${s.y * k}px`,
    });
  }
  return node;
}

function renderLegend() {
  const body = $('legend-body');
  body.replaceChildren();
  const opacity = String(0.35 + state.gridOpacity * 0.65);
  // One swatch striped with the grid colours: they tell neighbours apart and mean nothing more.
  const stripes = state.gridColours.map((c, i, all) => `${c} ${(i * 100) / all.length}% ${((i + 1) * 100) / all.length}%`).join(', ');
  body.append(
    el('h3', t('legend_grids')),
    el('ul.legend-grids',
      el('li', el('span.swatch', { style: { background: `linear-gradient(90deg, ${stripes})`, opacity } }), t('legend_grid_colours')),
      ...contextLegend()),
    el('h3', t('legend_resources')),
    el('ul.legend-kinds', state.spriteKinds.map((kind) => {
      const on = !state.kinds || state.kinds.has(kind);
      return el('li', el('button.kind' + (on ? '' : '.off'), {
        type: 'button', 'aria-pressed': String(on), dataset: { kind },
        onclick: () => toggleKind(kind),
      }, iconFor(kind, 18), kindName(kind)));
    })),
    el('div.legend-actions',
      el('button.linkish', { type: 'button', onclick: () => setKinds(null) }, t('all')),
      el('button.linkish', { type: 'button', onclick: () => setKinds(new Set()) }, t('none'))),
  );
}

/** Legend entries of the context the served data holds (water, green, urban-village population
 * points), each in the style's own colour. */
function contextLegend() {
  const held = new Set(state.contextLayers || []);
  const paint = (layer, prop) => (map.getLayer(layer) ? map.getPaintProperty(layer, prop) : null);
  const entries = [];
  if (held.has('water')) {
    entries.push(el('li.legend-water', el('span.swatch', { style: { background: paint('water', 'fill-color') || '#b3d1e6', borderColor: 'transparent' } }), t('legend_water')));
  }
  if (held.has('green')) {
    entries.push(el('li.legend-green', el('span.swatch', { style: { background: paint('green', 'fill-color') || '#bfdca8', borderColor: 'transparent' } }), t('legend_green')));
  }
  if (held.has('population_points')) {
    entries.push(el('li.legend-population-points', el('span.dot', { style: { background: paint('population-points', 'circle-color') || '#b54a2c' } }), t('legend_population_points')));
  }
  return entries;
}

function toggleKind(kind) {
  const kinds = new Set(state.kinds ?? state.spriteKinds);
  if (kinds.has(kind)) kinds.delete(kind); else kinds.add(kind);
  setKinds(kinds.size === state.spriteKinds.length ? null : kinds);
}

/** Shows only the resources of the given legend entries (null: all), within the style's own
 * filter (shops only close up). */
function setKinds(kinds) {
  state.kinds = kinds;
  const base = state.resourceFilter;
  if (!kinds) {
    map.setFilter('resources', base);
  } else {
    const list = (state.legendKinds || []).filter((e) => kinds.has(e.key)).flatMap((e) => e.kinds);
    for (const k of kinds) if (!list.includes(k)) list.push(k);
    const only = ['in', ['get', 'kind'], ['literal', list]];
    map.setFilter('resources', base ? ['all', base, only] : only);
  }
  renderLegend();
}
window.wangge.setKinds = (list) => setKinds(list ? new Set(list) : null);

function toggleLegend(open) {
  const legend = $('legend');
  const next = open ?? legend.classList.contains('closed');
  legend.classList.toggle('closed', !next);
  $('legend-toggle').setAttribute('aria-expanded', String(next));
}
$('legend-toggle').addEventListener('click', () => toggleLegend());

// ---- lookups -------------------------------------------------------------------------------------

/** The nearest clinic, pharmacy and shop (a supermarket counts as a shop). */
async function nearestServices(lon, lat) {
  const rows = [['clinic', 'clinic,hospital'], ['pharmacy', 'pharmacy'], ['shop', 'shop,supermarket']];
  return Promise.all(rows.map(async ([row, kinds]) => {
    try {
      const r = await api(`/v1/resources/nearest?lon=${lon}&lat=${lat}&kind=${kinds}&limit=1&route=true`);
      return { row, resource: r.resources[0] || null };
    } catch {
      return { row, resource: null };
    }
  }));
}

/**
 * Shows a view in the panel. Every answer (not "loading") is a step in the browser's history,
 * so Back — the panel's or the browser's — returns the previous view, its selection and the
 * map where it was.
 */
function show(view) {
  remember();
  state.view = view;
  if (view.type !== 'loading') {
    history.pushState({ wangge: true, depth: (history.state?.depth ?? 0) + 1, view, camera: camera() }, '');
  }
  render();
  expandSheet();
}

function camera() {
  const c = map.getCenter();
  // The padding too: a centre means a point of the map's padded middle (the panel's room).
  return { center: [c.lng, c.lat], zoom: map.getZoom(), padding: map.getPadding() };
}

/** Keeps the current history entry's view and map position up to date. */
function remember() {
  if (history.state?.wangge && state.view.type !== 'loading' && history.state.view?.type === state.view.type) {
    history.replaceState({ ...history.state, view: state.view, camera: camera() }, '');
  }
}
map.on('moveend', () => remember());

/** A view's selection on the map: its grid, its building, its marker. */
function applySelection(view) {
  selectGrid(view.grid?.code ?? view.selectedGrid ?? null);
  selectBuilding(view.building ?? null);
  if (view.at) marker.setLngLat(view.at).addTo(map); else marker.remove();
  if (view.type === 'resource') selectResource(view.resource);
  else if (view.type === 'hint') selectResource(null);
}

window.addEventListener('popstate', (e) => {
  const entry = e.state;
  if (!entry?.wangge) return;
  state.view = entry.view;
  applySelection(entry.view);
  if (entry.camera) map.jumpTo(entry.camera);
  render();
});
history.replaceState({ wangge: true, depth: 0, view: state.view, camera: null }, '');

function back() {
  if ((history.state?.depth ?? 0) > 0) history.back();
}

function backButton() {
  return (history.state?.depth ?? 0) > 0
    ? el('button.back', { type: 'button', id: 'back', onclick: back }, `‹ ${t('back')}`)
    : null;
}

async function lookupPoint(lon, lat, { heading = 'this_grid', fly = false } = {}) {
  marker.setLngLat([lon, lat]).addTo(map);
  selectResource(null);
  show({ type: 'loading' });
  try {
    const [grid, near, building] = await Promise.all([api(`/v1/lookup?lon=${lon}&lat=${lat}`), nearestServices(lon, lat), buildingAt(lon, lat)]);
    selectGrid(grid.code);
    selectBuilding(building);
    show({ type: 'grid', grid, near, at: [lon, lat], heading, building, address: building?.properties?.address, buildingId: building?.id ?? null });
    if (fly) flyTo([lon, lat]);
  } catch (e) {
    selectGrid(null);
    selectBuilding(null);
    if (e instanceof ApiError && e.status === 404) show({ type: 'message', key: 'no_grid', at: [lon, lat] });
    else show({ type: 'message', key: 'error', vars: { detail: errorText(e) }, at: [lon, lat] });
  }
}

window.wangge.lookupPoint = (lon, lat) => lookupPoint(lon, lat);

async function searchAddress(q) {
  q = q.trim();
  if (!q) return;
  selectResource(null);
  show({ type: 'loading' });
  try {
    const answer = await api(`/v1/lookup?address=${encodeURIComponent(q)}&limit=5`);
    const cands = answer.candidates || [];
    if (answer.ambiguous && cands.length > 1) {
      show({ type: 'candidates', q, candidates: cands });
      return;
    }
    // A community or compound name is no building: never show one grid as "yours" for it.
    if (cands[0] && cands[0].level !== 'building') {
      await showArea(q, cands[0]);
      return;
    }
    await chooseCandidate(cands[0]);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) show({ type: 'message', key: 'no_address', vars: { q } });
    else show({ type: 'message', key: 'error', vars: { detail: errorText(e) } });
  }
}

/** Every item of an OGC API collection matching `query`, page by page. */
async function allItems(collection, query) {
  const items = [];
  for (let offset = 0; ; offset += 500) {
    const page = await api(`/collections/${collection}/items?${query}&limit=500&offset=${offset}`);
    items.push(...page.features);
    if (page.features.length < 500) return items;
  }
}

/**
 * A vague answer (a community, or a compound split between grids): the grids it covers, each
 * with its leader, and a request for the building number; the map frames them.
 */
async function showArea(q, c) {
  selectGrid(null);
  selectBuilding(null);
  const community = c.community_code;
  const grids = (await allItems('grids', `community=${encodeURIComponent(community)}`))
    .filter((f) => f.properties.kind === 'basic' || f.properties.kind === 'exclusive');
  let mine = grids;
  let example = '';
  const buildings = await allItems('buildings', `community=${encodeURIComponent(community)}`);
  if (c.level === 'compound' && c.compound) {
    const ids = new Set(buildings.filter((b) => b.properties.compound === c.compound).map((b) => b.properties.id ?? b.id));
    mine = grids.filter((g) => (g.properties.buildings || []).some((id) => ids.has(id)));
    example = buildings.find((b) => b.properties.compound === c.compound && b.properties.address)?.properties.address || '';
  } else {
    example = buildings.find((b) => b.properties.address)?.properties.address || '';
  }
  const bounds = new maplibregl.LngLatBounds();
  for (const g of mine) for (const ring of (g.geometry.type === 'Polygon' ? [g.geometry.coordinates] : g.geometry.coordinates)) for (const p of ring[0]) bounds.extend(p);
  if (!bounds.isEmpty()) map.fitBounds(bounds, { padding: padding(), duration: 600, maxZoom: 16 });
  marker.remove();
  show({ type: 'area', q, level: c.level, example, grids: mine.map((g) => g.properties) });
}

async function chooseCandidate(c) {
  const [lon, lat] = c.location;
  marker.setLngLat([lon, lat]).addTo(map);
  selectResource(null);
  const [near, building] = await Promise.all([nearestServices(lon, lat), c.building ? buildingById(c.building) : null]);
  selectBuilding(building);
  if (!c.grid) {
    show({ type: 'message', key: 'no_grid', at: [lon, lat], building });
    return;
  }
  selectGrid(c.grid.code);
  show({ type: 'grid', grid: c.grid, near, at: [lon, lat], heading: 'your_grid', address: c.address, building, buildingId: c.building ?? null });
  // Close enough to see the building's outline and label.
  flyTo([lon, lat], 17);
}

function flyTo(lngLat, zoom) {
  map.easeTo({ center: lngLat, zoom: Math.max(zoom ?? 16, map.getZoom()), padding: padding(), duration: 600 });
}

/** A resource in full: the tile has id, kind and name; phone and hours come from the API. */
async function openResource(r, { fly = true } = {}) {
  let full = r;
  if (r.phone === undefined) {
    try {
      const [lon, lat] = r.location;
      const found = await api(`/v1/resources/nearest?lon=${lon}&lat=${lat}&kind=${encodeURIComponent(r.kind)}&limit=5`);
      full = found.resources.find((x) => x.id === r.id) || found.resources[0] || r;
    } catch { /* what the tile had */ }
  }
  const prev = state.view;
  const from = prev?.type === 'grid' ? prev.at : null;
  selectResource(full);
  // The grid and building of the card it was chosen from stay on the map behind it.
  show({ type: 'resource', resource: full, from, selectedGrid: state.selectedGrid, building: state.selectedBuilding, at: prev?.at });
  if (fly) flyTo(full.location, 16);
}

// ---- panel rendering -------------------------------------------------------------------------------

function render() {
  const root = $('result');
  const v = state.view;
  root.replaceChildren();
  if (v.type === 'hint') root.append(el('p.hint', t('hint')), summary());
  else if (v.type === 'loading') root.append(el('p.hint.loading', t('loading')));
  else if (v.type === 'message') root.append(backButton(), el('p.notice', t(v.key, v.vars)));
  else if (v.type === 'candidates') root.append(renderCandidates(v));
  else if (v.type === 'area') root.append(renderArea(v));
  else if (v.type === 'grid') root.append(renderGrid(v));
  else if (v.type === 'resource') root.append(renderResource(v));
}

/** What the map covers, from the tiles on screen: each community, its grids and residents. */
function summary() {
  const node = el('div.summary');
  const fill = () => {
    if (!map.getSource('wangge') || !map.isSourceLoaded('wangge')) return false;
    const communities = new Map();
    for (const f of map.querySourceFeatures('wangge', { sourceLayer: 'community_labels' })) communities.set(f.properties.code, f.properties);
    const grids = new Map();
    for (const f of map.querySourceFeatures('wangge', { sourceLayer: 'grid_labels' })) grids.set(f.properties.code, f.properties);
    if (!communities.size) return false;
    node.replaceChildren(...[...communities.values()].slice(0, 6).map((c) => {
      const mine = [...grids.values()].filter((g) => String(g.code).startsWith(c.code));
      const exclusive = mine.filter((g) => g.kind === 'exclusive').length;
      return el('div.summary-row', el('strong', { translate: 'no' }, c.name),
        el('span', t('summary', { grids: mine.length - exclusive, exclusive, p: number(c.population) })));
    }));
    return true;
  };
  if (!fill()) map.once('idle', () => { fill(); });
  return node;
}

function renderCandidates(v) {
  return el('div.card',
    backButton(),
    el('p.card-label', t('candidates')),
    el('ul.candidates', v.candidates.map((c) => el('li', el('button.candidate', {
      // A compound (宛城花园 → its sections) lists its grids, never one grid as "yours".
      type: 'button', onclick: () => (c.level === 'building' ? chooseCandidate(c) : showArea(c.address, c)),
    }, el('span.cand-address', { translate: 'no' }, c.address), c.grid ? el('span.cand-grid', { translate: 'no' }, c.grid.code) : null)))));
}

function renderArea(v) {
  return el('div.card.area-card', { 'data-level': v.level },
    backButton(),
    el('p.notice', t(v.level === 'compound' ? 'vague_compound' : 'vague_community', { q: v.q, example: v.example })),
    el('ul.candidates.area-grids', v.grids.map((g) => el('li', { 'data-grid': g.code },
      el('button.candidate', { type: 'button', onclick: () => { selectGrid(g.code); v.selectedGrid = g.code; remember(); } },
        codeNode(g.code),
        el('span.cand-grid', t('residents_households', { p: number(g.population), h: number(g.households) })),
        (g.staff || []).find((s) => s.role === '网格长')
          ? el('span.muted', t('grid_leader', { name: g.staff.find((s) => s.role === '网格长').name }))
          : null)))));
}

/** "350206001017" + bold "003": the community part quiet, the grid's own number loud. */
function codeNode(code) {
  return el('span.code', { 'data-code': code, translate: 'no' }, el('span.code-head', code.slice(0, 12)), el('strong', code.slice(12)));
}

function renderGrid(v) {
  const g = v.grid;
  const kind = g.kind === 'exclusive' ? t('exclusive') : t('basic');
  const staff = [...(g.micro?.staff || []), ...(g.staff || [])];
  const seen = new Set();
  const people = staff.filter((s) => { const k = `${s.name}|${s.phone}`; if (seen.has(k)) return false; seen.add(k); return true; });
  return el('div.card.grid-card', { 'data-grid': g.code },
    backButton(),
    el('p.card-label', t(v.heading)),
    v.address ? el('p.address-line', { translate: 'no' }, v.address) : null,
    el('div.grid-code', codeNode(g.code)),
    el('p.grid-meta',
      el('span.badge' + (g.kind === 'exclusive' ? '.exclusive' : ''), kind),
      g.name ? el('span', { translate: 'no' }, g.name) : null,
      el('span', { translate: 'no' }, g.community_name || g.community_code)),
    el('p.grid-numbers', t('residents_households', { p: number(g.population), h: number(g.households) })),
    g.micro ? el('p.grid-micro', `${t('micro')} `, el('span.mono', { translate: 'no' }, g.micro.code)) : null,
    el('h3', t('staff')),
    people.length
      ? el('ul.staff', people.map((s) => el('li',
        el('span.avatar', { 'aria-hidden': 'true' }, (s.name || '?').slice(0, 1)),
        el('span.staff-who', el('span.staff-name', { translate: 'no' }, s.name), el('span.staff-role', roleName(s.role))),
        s.phone ? el('a.phone', { href: `tel:${s.phone}`, title: t('call'), translate: 'no' }, s.phone) : null)))
      : el('p.muted', t('no_staff')),
    el('h3', t('nearby')),
    el('ul.nearby', v.near.map(({ row, resource }) => el('li',
      resource
        ? el('button.near' + (state.selectedResource?.id === resource.id ? '.chosen' : ''), { type: 'button', 'data-resource': resource.id, onclick: () => openResource(resource) },
          iconFor(resource.kind, 26),
          el('span.near-text', el('span.near-label', t(`near_${row}`)), el('span.near-name', { translate: resourceNamed(resource) ? 'no' : null }, resourceName(resource)),
            el('span.near-dist', walkingOf(resource))),
          el('span.chev', { 'aria-hidden': 'true' }, '›'))
        : el('div.near.none', iconFor(row, 26), el('span.near-text', el('span.near-label', t(`near_${row}`)), el('span.muted', t('nearby_none')))),
    ))),
    v.buildingId ? keepCard(v.buildingId) : null,
  );
}

/** What a resident can keep of a building's card: its placard to print (with a QR code of the
 * building's link) and the link itself. */
function keepCard(id) {
  const path = encodeURIComponent(id);
  return el('div.keep-card',
    el('h3', t('keep_card')),
    el('p.keep-links',
      el('a.placard-pdf', { href: `${apiBase}/v1/buildings/${path}/placard.pdf`, target: '_blank', rel: 'noopener' }, t('placard_pdf')),
      el('a.placard-png', { href: `${apiBase}/v1/buildings/${path}/placard.png`, target: '_blank', rel: 'noopener' }, t('placard_png')),
      el('a.card-link', { href: `/b/${path}` }, t('card_link'))));
}

/** A resource's name, or its kind in the page's language when it has none (an OpenStreetMap
 * import names an unnamed shop "shop"). */
function resourceName(r) {
  return resourceNamed(r) ? r.name : kindName(r.kind);
}

/** Whether a resource has a name of its own (data, shown as given: "Alko", "康乐诊所"). */
function resourceNamed(r) {
  const n = String(r.name ?? '').trim().toLowerCase().replace(/[ -]/g, '_');
  return !!n && n !== r.kind;
}

function haversine([lon1, lat1], [lon2, lat2]) {
  const r = 6371008.8;
  const rad = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * rad) / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * r * Math.asin(Math.sqrt(a));
}

function renderResource(v) {
  const r = v.resource;
  const dist = v.from ? haversine(v.from, r.location) : null;
  const row = (label, value) => (value ? el('div.row', el('dt', label), el('dd', value)) : null);
  return el('div.card.resource-card', { 'data-resource': r.id },
    backButton(),
    el('div.resource-head', iconFor(r.kind, 34), el('div', el('h2.resource-name', { translate: resourceNamed(r) ? 'no' : null }, resourceName(r)), el('p.muted', kindName(r.kind)))),
    el('dl.facts',
      row(t('phone'), r.phone ? el('a.phone', { href: `tel:${r.phone}`, translate: 'no' }, r.phone) : null),
      row(t('hours'), r.hours ? el('span', { translate: 'no' }, r.hours) : null),
      row(t('address'), r.address ? el('span', { translate: 'no' }, r.address) : null),
      row(t('distance'), r.walk_m != null ? walkingOf(r) : dist !== null ? walkingOf({ distance_m: dist }) : null)),
  );
}

// ---- map clicks, search, locate ---------------------------------------------------------------------

map.on('click', (e) => {
  const box = [[e.point.x - 8, e.point.y - 8], [e.point.x + 8, e.point.y + 8]];
  const hit = map.getLayer('resources') ? map.queryRenderedFeatures(box, { layers: ['resources'] }) : [];
  if (hit.length) {
    const f = hit[0];
    openResource({ ...f.properties, location: f.geometry.coordinates }, { fly: false });
    return;
  }
  if (document.body.classList.contains('planning')) {
    planner.pickGrid(e.lngLat.lng, e.lngLat.lat);
    return;
  }
  lookupPoint(e.lngLat.lng, e.lngLat.lat, { heading: 'this_grid' });
});
map.on('mousemove', (e) => {
  if (!map.getLayer('resources')) return;
  const hit = map.queryRenderedFeatures([[e.point.x - 8, e.point.y - 8], [e.point.x + 8, e.point.y + 8]], { layers: ['resources'] });
  map.getCanvas().style.cursor = hit.length ? 'pointer' : '';
});

$('search').addEventListener('submit', (e) => {
  e.preventDefault();
  const active = suggest.open ? suggest.items[suggest.active] : null;
  closeSuggestions();
  $('q').blur();
  if (active) chooseSuggestion(active);
  else searchAddress($('q').value);
});

// ---- suggestions as one types ----------------------------------------------------------------------
// A WAI-ARIA combobox: the input owns a listbox of suggestions from /v1/suggest, fetched 150 ms
// after the last keystroke (a newer keystroke cancels the request in flight); ↑/↓ move, Enter
// chooses (or searches what is typed when nothing is highlighted), Escape closes; a tap chooses.

const suggest = { items: [], active: -1, open: false, timer: null, inflight: null, query: '', cache: new Map() };
const SUGGEST_DELAY_MS = 150;

/** The search box's placeholder: an address of the served data (TileJSON `search_example`). */
function searchPlaceholder() {
  const input = $('q');
  const example = state.searchExample;
  input.placeholder = example ? t('search_placeholder_example', { example }) : t('search_placeholder');
  // The example is data (an OpenStreetMap street may be Latin): the page's text scan skips it.
  if (example) input.dataset.example = example; else delete input.dataset.example;
  $('suggestions').setAttribute('aria-label', t('suggestions'));
}
window.wangge.searchPlaceholder = searchPlaceholder;
searchPlaceholder();

function scheduleSuggestions() {
  clearTimeout(suggest.timer);
  const q = $('q').value.trim();
  if (!q) {
    suggest.inflight?.abort();
    closeSuggestions();
    return;
  }
  suggest.timer = setTimeout(() => fetchSuggestions(q), SUGGEST_DELAY_MS);
}

async function fetchSuggestions(q) {
  suggest.inflight?.abort();
  let items = suggest.cache.get(q);
  if (!items) {
    const ctl = new AbortController();
    suggest.inflight = ctl;
    try {
      const answer = await api(`/v1/suggest?q=${encodeURIComponent(q)}&limit=8`, { signal: ctl.signal });
      items = answer.suggestions || [];
    } catch {
      // Cancelled by a newer keystroke, or the service did not answer: no list, the search button still works.
      return;
    } finally {
      if (suggest.inflight === ctl) suggest.inflight = null;
    }
    if (suggest.cache.size > 200) suggest.cache.clear();
    suggest.cache.set(q, items);
  }
  // Only the answer to what is in the box now.
  if ($('q').value.trim() !== q || document.activeElement !== $('q')) return;
  suggest.items = items;
  suggest.query = q;
  suggest.active = -1;
  if (items.length) renderSuggestions(); else closeSuggestions();
}

/** The typed text marked in a label when it occurs there as typed (ignoring case). */
function highlighted(label, q) {
  const at = q ? label.toLowerCase().indexOf(q.toLowerCase()) : -1;
  if (at < 0) return [label];
  return [label.slice(0, at), el('mark', label.slice(at, at + q.length)), label.slice(at + q.length)];
}

function suggestionGlyph(s) {
  if (s.kind === 'resource') return iconFor(s.resource_kind, 22);
  const letter = { community: '社', compound: '区', address: '楼', grid: '格' }[s.kind];
  return el(`span.sugg-glyph.${s.kind}`, { 'aria-hidden': 'true' }, letter);
}

function renderSuggestions() {
  const list = $('suggestions');
  list.replaceChildren(...suggest.items.map((s, i) => el('li.suggestion', {
    id: `suggestion-${i}`, role: 'option', 'aria-selected': String(i === suggest.active),
    dataset: { kind: s.kind, index: String(i) },
    // Keeps the focus in the box, so a tap or click chooses and the keyboard stays up.
    onmousedown: (e) => e.preventDefault(),
    onclick: () => { closeSuggestions(); $('q').value = s.label; $('q').blur(); chooseSuggestion(s); },
  },
  suggestionGlyph(s),
  el('span.sugg-text',
    el('span.sugg-label', { translate: 'no' }, highlighted(s.label, suggest.query)),
    s.detail ? el('span.sugg-detail', { translate: 'no' }, s.detail) : null),
  el('span.sugg-kind', s.kind === 'resource' ? kindName(s.resource_kind) : t(`suggest_${s.kind}`)))));
  list.hidden = false;
  suggest.open = true;
  const input = $('q');
  input.setAttribute('aria-expanded', 'true');
  if (suggest.active >= 0) input.setAttribute('aria-activedescendant', `suggestion-${suggest.active}`);
  else input.removeAttribute('aria-activedescendant');
  $('suggest-status').textContent = t('suggest_count', { n: suggest.items.length });
  expandSheet();
}

function closeSuggestions() {
  clearTimeout(suggest.timer);
  suggest.open = false;
  suggest.active = -1;
  $('suggestions').hidden = true;
  $('q').setAttribute('aria-expanded', 'false');
  $('q').removeAttribute('aria-activedescendant');
  $('suggest-status').textContent = '';
}

function moveActive(step) {
  const n = suggest.items.length;
  if (!n) return;
  suggest.active = suggest.active < 0 ? (step > 0 ? 0 : n - 1) : (suggest.active + step + n) % n;
  renderSuggestions();
  document.getElementById(`suggestion-${suggest.active}`)?.scrollIntoView({ block: 'nearest' });
}

// While an IME composes Chinese, the box holds its pinyin: ask when the characters are chosen.
$('q').addEventListener('input', (e) => { if (!e.isComposing) scheduleSuggestions(); });
$('q').addEventListener('compositionend', scheduleSuggestions);
$('q').addEventListener('focus', () => { if ($('q').value.trim()) scheduleSuggestions(); });
$('q').addEventListener('blur', () => closeSuggestions());
$('q').addEventListener('keydown', (e) => {
  if (e.isComposing) return; // an IME is composing Chinese: its keys are its own
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    if (!suggest.open) {
      if (suggest.items.length && suggest.query === $('q').value.trim()) renderSuggestions();
      return;
    }
    e.preventDefault();
    moveActive(e.key === 'ArrowDown' ? 1 : -1);
  } else if (e.key === 'Escape' && suggest.open) {
    e.preventDefault();
    closeSuggestions();
  } else if (e.key === 'Enter' && suggest.open && suggest.active >= 0) {
    e.preventDefault();
    const s = suggest.items[suggest.active];
    closeSuggestions();
    $('q').value = s.label;
    $('q').blur();
    chooseSuggestion(s);
  }
});

/** Goes where a search for the suggestion would: a building → its grid card (the building
 * outlined); a compound or community → its grids; a resource → its card; a grid → its card. */
async function chooseSuggestion(s) {
  selectResource(null);
  try {
    if (s.kind === 'address') {
      show({ type: 'loading' });
      const answer = await api(`/v1/lookup?building=${encodeURIComponent(s.building)}`);
      await chooseCandidate(answer.candidates[0]);
    } else if (s.kind === 'compound' || s.kind === 'community') {
      show({ type: 'loading' });
      await showArea(s.label, { level: s.kind, compound: s.compound, community_code: s.community_code });
    } else if (s.kind === 'resource') {
      await openResource({ id: s.resource, kind: s.resource_kind, name: s.label, address: s.address, location: s.location });
    } else if (s.kind === 'grid') {
      show({ type: 'loading' });
      const [grid, near] = await Promise.all([api(`/v1/lookup?grid=${encodeURIComponent(s.grid)}`), nearestServices(...s.location)]);
      selectGrid(grid.code);
      selectBuilding(null);
      marker.remove();
      show({ type: 'grid', grid, near, at: null, heading: 'this_grid' });
      flyTo(s.location, 15);
    }
  } catch (e) {
    show({ type: 'message', key: 'error', vars: { detail: errorText(e) } });
  }
}
window.wangge.chooseSuggestion = chooseSuggestion;

$('locate').addEventListener('click', () => {
  if (!('geolocation' in navigator) || !window.isSecureContext) {
    show({ type: 'message', key: 'locate_failed', vars: { reason: t('locate_insecure') } });
    return;
  }
  show({ type: 'loading' });
  navigator.geolocation.getCurrentPosition(
    (pos) => lookupPoint(pos.coords.longitude, pos.coords.latitude, { heading: 'your_grid', fly: true }),
    (err) => show({ type: 'message', key: 'locate_failed', vars: { reason: t(`geo_${err.code}`) } }),
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
  );
});

// ---- language, bottom sheet, modes ------------------------------------------------------------------

$('lang').addEventListener('click', () => setLang(getLang() === 'zh' ? 'en' : 'zh'));
function langButton() {
  $('lang').textContent = t('lang_switch');
  $('lang').lang = getLang() === 'zh' ? 'en' : 'zh-CN';
}
langButton();
onLangChange(() => {
  langButton();
  searchPlaceholder();
  if (suggest.items.length) renderSuggestions();
  map.fire('move'); // the scale bar writes its units again
  attributionInLanguage();
  selectBuilding(state.selectedBuilding);
  render();
  if (state.sprite) renderLegend();
  labelsForLanguage();
});

function expandSheet() {
  $('panel').classList.remove('collapsed');
}
$('sheet-handle').addEventListener('click', () => $('panel').classList.toggle('collapsed'));

const planner = initPlanner({ map, show, selectGrid, padding, iconFor });
// Planning writes to the service: not from a static copy of the map.
if (staticArchive) $('mode-planner').hidden = true;
$('mode-resident').addEventListener('click', () => setMode('resident'));
$('mode-planner').addEventListener('click', async () => {
  if (await planner.enter()) setMode('planner');
});
function setMode(mode) {
  const planning = mode === 'planner';
  document.body.classList.toggle('planning', planning);
  $('resident').hidden = planning;
  $('planner').hidden = !planning;
  $('mode-resident').classList.toggle('active', !planning);
  $('mode-planner').classList.toggle('active', planning);
  $('mode-resident').setAttribute('aria-selected', String(!planning));
  $('mode-planner').setAttribute('aria-selected', String(planning));
  if (!planning) planner.leave();
  // The resident's searched building and chosen service are not the planner's business.
  for (const id of ['selected-building-fill', 'selected-building-halo', 'selected-building-line', 'selected-building-label', 'selected-resource-halo']) {
    if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', planning ? 'none' : 'visible');
  }
  // The residents' legend says nothing about a draft: out of the way while planning.
  toggleLegend(!planning && !narrow.matches);
  expandSheet();
}
window.wangge.setMode = setMode;

render();

// A version published while the page is open (by a planner anywhere): show it.
let servedVersion = null;
// A static folder holds one version: its archive changes only when the folder is exported again.
if (!staticArchive) setInterval(async () => {
  try {
    const { version } = await api('/healthz');
    if (servedVersion !== null && version !== servedVersion) reloadTiles(map, version);
    servedVersion = version;
  } catch { /* the next tick tries again */ }
}, 30_000);
