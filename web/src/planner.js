// Planner mode (规划), behind the planner token (kept in sessionStorage, so it ends with the tab):
// pick a community, partition or re-partition into a draft drawn by size against the bounds,
// validate it (defects on the map), compare versions, publish, roll back, print.
//
// Contract (all JSON, errors RFC 9457 problem+json, token as `Authorization: Bearer`):
// GET /v1/auth → 204; GET /v1/datasets; POST /v1/datasets/{id}/partition|repartition → 201
// {draft, report}; GET /v1/drafts/{id}/grids|diff; POST /v1/drafts/{id}/validate → {report,
// defects}; POST /v1/drafts/{id}/publish {note} → 201 {version}; GET /v1/versions;
// GET /v1/versions/{n}/grids; GET /v1/versions/{a}/diff/{b}; POST /v1/versions/{n}/rollback.

import { t, number, onLangChange, errorText, maybe, getLang } from './i18n.js';
import { api, el, bbox, labelPoint, reloadTiles as reload, ApiError } from './util.js';
import { createDiffView } from './diffview.js';

const TOKEN_KEY = 'wangge.token';
const $ = (id) => document.getElementById(id);

// Diverging fills for a draft's grids: blue under the bounds, pale in the band, red over.
const UNDER_FAR = '#3f7fb6';
const UNDER_NEAR = '#a9cce3';
const IN_BAND = '#dfe9d2';
const OVER_NEAR = '#f2b6a0';
const OVER_FAR = '#c4473a';
const EXCLUSIVE = '#c9bde2';
const DEFECT = '#c2187e'; // magenta: apart from the red of "over"
const CHANGED = '#e07b00';
// Life-circle bands, nearest first (green to amber), and beyond every circle (red).
const ACCESS_BANDS = ['#1a9850', '#91cf60', '#f2c14e', '#f08c3a'];
const ACCESS_BEYOND = '#c4473a';
// The service kinds the standards place in life circles (the service's defaults).
const ACCESS_KINDS = ['clinic', 'kindergarten', 'pharmacy', 'shop', 'elderly_care', 'service_center', 'school', 'market', 'supermarket', 'hospital'];

const PUBLISHED_GRID_LAYERS = ['grid-fill', 'grid-line', 'grid-label', 'selected-grid-mask', 'selected-grid-fill', 'selected-grid-halo', 'selected-grid-line'];

/** Text that is data or a code, not the page's words (a file name, a JSON path, an id, a
 * planner's note): shown as given, and marked so (`translate="no"`). */
const code = (text) => el('code', { translate: 'no' }, String(text));
const asGiven = (text) => el('span', { translate: 'no' }, String(text));

export function initPlanner({ map, padding, selectGrid }) {
  const s = {
    token: sessionStorage.getItem(TOKEN_KEY),
    communities: [],
    community: null,
    datasets: [],
    drafts: [], // drafts not yet published, wherever they were made (this page, the command line)
    versions: [],
    draft: null,
    report: null,
    bounds: { min: 1500, max: 2000 },
    defects: null,
    diff: null,
    diffLabel: null,
    status: null, // {kind: 'ok'|'error'|'busy', text}
    staff: null, // {code, rows: [{name, role, phone}], status}
    problems: null, // an upload's rejection: [{file, feature: {index, id}, field, message}]
    uploadOpen: false, // the upload section stays open until an upload succeeds
    layersOn: false,
    // Life circles of the community picked: the kind walked to, the coverage answer
    // (GET /v1/access?community&kind) and whether the map shows every building's walk.
    access: { kind: 'clinic', on: false, data: null, circles: null, buildings: null, busy: false },
  };
  const root = $('planner');

  const call = (path, opts = {}) => api(path, { ...opts, token: s.token });
  // The diff view (old and new borders, the table of moves, notices, the large-move dialog).
  const dv = createDiffView({ map, padding, token: () => s.token, render: () => render(), setStatus: (k, x) => setStatus(k, x) });

  // ---- sign-in ---------------------------------------------------------------------------------

  /** Checks a token with GET /v1/auth: true (204), false (401), or throws (service without it). */
  async function check(token) {
    try {
      await api('/v1/auth', { token });
      return true;
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return false;
      throw e;
    }
  }

  function prompt() {
    const dialog = $('token-dialog');
    const input = $('token-input');
    const error = $('token-error');
    error.textContent = '';
    input.value = '';
    return new Promise((resolve) => {
      const done = (ok) => {
        $('token-form').removeEventListener('submit', submit);
        $('token-cancel').removeEventListener('click', cancel);
        dialog.removeEventListener('cancel', cancel);
        if (dialog.open) dialog.close();
        resolve(ok);
      };
      const submit = async (e) => {
        e.preventDefault();
        const token = input.value.trim();
        if (!token) return;
        $('token-ok').disabled = true;
        try {
          if (await check(token)) {
            s.token = token;
            sessionStorage.setItem(TOKEN_KEY, token);
            done(true);
          } else {
            error.textContent = t('token_bad');
            input.select();
          }
        } catch (err) {
          error.textContent = err instanceof ApiError && err.status === 404 ? t('token_unsupported') : t('error', { detail: errorText(err) });
        } finally {
          $('token-ok').disabled = false;
        }
      };
      const cancel = (e) => { e?.preventDefault?.(); done(false); };
      $('token-form').addEventListener('submit', submit);
      $('token-cancel').addEventListener('click', cancel);
      dialog.addEventListener('cancel', cancel);
      dialog.showModal();
      input.focus();
    });
  }

  async function enter() {
    let ok = false;
    if (s.token) {
      try { ok = await check(s.token); } catch { ok = false; }
      if (!ok) { s.token = null; sessionStorage.removeItem(TOKEN_KEY); }
    }
    if (!ok) ok = await prompt();
    if (!ok) return false;
    addLayers();
    if (map.getLayer('density')) map.setLayoutProperty('density', 'visibility', 'visible');
    gridFill('statusFill');
    render();
    await Promise.all([loadCommunities(), loadDatasets(), loadVersions(), loadDrafts()]);
    render();
    flyToCommunity();
    return true;
  }

  function leave() {
    clearPlan();
    if (map.getLayer('density')) map.setLayoutProperty('density', 'visibility', 'none');
    gridFill('residentFill');
  }

  /** Planners see the published grids by size against the bounds (the style keeps that fill in
   * the grid-fill layer's metadata); residents see neighbouring grids in different colours. */
  function gridFill(which) {
    const fill = window.wangge.state?.[which];
    if (fill && map.getLayer('grid-fill')) map.setPaintProperty('grid-fill', 'fill-color', fill);
  }

  function logout() {
    s.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    window.wangge.setMode('resident');
  }

  // ---- data ----------------------------------------------------------------------------------------

  async function loadCommunities() {
    try {
      // OGC API – Features, when the service has it.
      const fc = await api('/collections/communities/items?limit=1000');
      s.communities = fc.features.map((f) => ({
        code: f.properties.code ?? f.id, name: f.properties.name, population: f.properties.population, box: bbox([f]),
      }));
    } catch {
      // Otherwise the communities of the loaded tiles (the whole region shows at the first view).
      const parts = map.querySourceFeatures('wangge', { sourceLayer: 'communities' });
      const by = new Map();
      for (const f of parts) {
        const code = f.properties.code;
        const c = by.get(code) || { code, name: f.properties.name, population: f.properties.population, parts: [] };
        c.parts.push(f);
        by.set(code, c);
      }
      s.communities = [...by.values()].map((c) => ({ ...c, box: bbox(c.parts), parts: undefined }));
    }
    s.communities.sort((a, b) => String(a.code).localeCompare(String(b.code)));
    if (!s.community && s.communities.length) s.community = s.communities[0].code;
  }

  async function loadDatasets() {
    try {
      s.datasets = (await call('/v1/datasets')).datasets || [];
    } catch (e) {
      s.datasets = [];
      setStatus('error', t('error', { detail: errorText(e) }));
    }
  }

  async function loadDrafts() {
    try {
      s.drafts = (await call('/v1/drafts')).drafts || [];
    } catch {
      s.drafts = [];
    }
  }

  /** Opens a stored draft (made here earlier, or by `wangge move` / `wangge load`): its grids on
   *  the map and its report, ready to validate, compare and publish. */
  async function openDraft(id) {
    setStatus('busy', t('running'));
    try {
      const [answer, fc] = await Promise.all([call(`/v1/drafts/${encodeURIComponent(id)}`), call(`/v1/drafts/${encodeURIComponent(id)}/grids`)]);
      s.draft = answer.draft;
      s.report = answer.report;
      const b = answer.report?.bounds;
      if (b && Number.isFinite(b.min) && Number.isFinite(b.max)) s.bounds = { min: b.min, max: b.max };
      s.defects = null;
      s.diff = null;
      s.refused = null;
      s.unstaffed = null;
      showPlanGrids(fc);
      map.getSource('plan-defects').setData(empty);
      highlight(null);
      setStatus('ok', t('draft_grids', { n: fc.features.filter((f) => f.properties.level !== 'micro').length }));
    } catch (e) {
      setStatus('error', t('error', { detail: errorText(e) }));
    }
    render();
  }

  async function loadVersions() {
    try {
      s.versions = (await api('/v1/versions')).versions || [];
    } catch (e) {
      s.versions = [];
    }
  }

  function setStatus(kind, text) {
    s.status = { kind, text };
    renderStatus();
  }

  // ---- map layers ------------------------------------------------------------------------------------

  const empty = { type: 'FeatureCollection', features: [] };

  function sizeFill() {
    const { min, max } = s.bounds;
    const pop = ['get', 'population'];
    return ['case',
      ['==', ['get', 'kind'], 'exclusive'], EXCLUSIVE,
      ['<', pop, min], ['interpolate', ['linear'], pop, min * 0.5, UNDER_FAR, min, UNDER_NEAR],
      ['>', pop, max], ['interpolate', ['linear'], pop, max, OVER_NEAR, max * 1.5, OVER_FAR],
      IN_BAND];
  }

  function addLayers() {
    if (map.getSource('plan-grids')) return;
    const before = map.getLayer('resources') ? 'resources' : undefined;
    map.addSource('plan-grids', { type: 'geojson', data: empty });
    map.addSource('plan-defects', { type: 'geojson', data: empty });
    map.addSource('plan-labels', { type: 'geojson', data: empty });
    map.addLayer({ id: 'plan-fill', type: 'fill', source: 'plan-grids', filter: ['!=', ['get', 'level'], 'micro'],
      paint: { 'fill-color': sizeFill(), 'fill-opacity': 0.62 } }, 'roads-casing');
    map.addLayer({ id: 'plan-micro', type: 'line', source: 'plan-grids', filter: ['==', ['get', 'level'], 'micro'], minzoom: 15,
      paint: { 'line-color': '#6b7785', 'line-width': 0.8, 'line-dasharray': [3, 2] } }, before);
    map.addLayer({ id: 'plan-line', type: 'line', source: 'plan-grids', filter: ['!=', ['get', 'level'], 'micro'],
      layout: { 'line-join': 'round' }, paint: { 'line-color': '#2b3a4a', 'line-width': 1.6 } }, before);
    map.addLayer({ id: 'plan-changed', type: 'line', source: 'plan-grids', filter: ['in', ['get', 'code'], ['literal', []]],
      layout: { 'line-join': 'round' }, paint: { 'line-color': CHANGED, 'line-width': 4, 'line-dasharray': [2, 1] } }, before);
    map.addLayer({ id: 'plan-moved', type: 'fill', source: 'wangge', 'source-layer': 'buildings', filter: ['in', ['get', 'id'], ['literal', []]],
      paint: { 'fill-color': CHANGED, 'fill-opacity': 0.85, 'fill-outline-color': '#8a4500' } }, before);
    map.addLayer({ id: 'plan-defect-fill', type: 'fill', source: 'plan-defects', filter: ['==', ['geometry-type'], 'Polygon'],
      paint: { 'fill-color': DEFECT, 'fill-opacity': 0.3 } }, before);
    map.addLayer({ id: 'plan-defect-line', type: 'line', source: 'plan-defects',
      paint: { 'line-color': DEFECT, 'line-width': 3.5, 'line-dasharray': [1.5, 1] } }, before);
    map.addLayer({ id: 'plan-defect-point', type: 'circle', source: 'plan-defects', filter: ['==', ['geometry-type'], 'Point'],
      paint: { 'circle-color': DEFECT, 'circle-radius': 7, 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } }, before);
    map.addSource('plan-access', { type: 'geojson', data: empty });
    map.addLayer({ id: 'plan-access', type: 'circle', source: 'plan-access',
      paint: { 'circle-color': accessColour([]), 'circle-radius': ['interpolate', ['linear'], ['zoom'], 13, 2.5, 17, 7],
        'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } }, before);
    map.addLayer({ id: 'plan-label', type: 'symbol', source: 'plan-labels',
      layout: { 'text-field': ['format', ['slice', ['to-string', ['get', 'code']], 12], { 'font-scale': 1.1, 'text-font': ['literal', ['DejaVu Sans Bold']] },
        '\n', {}, ['to-string', ['get', 'population']], { 'font-scale': 0.85 }],
      'text-font': ['DejaVu Sans Book'], 'text-size': 13 },
      paint: { 'text-color': '#1d2733', 'text-halo-color': '#fff', 'text-halo-width': 1.6 } });
    dv.addLayers();
  }

  /** A building's colour by the nearest life circle its walk is within (`band`: the circle's
   *  minutes; null beyond them all or unreachable). */
  function accessColour(circles) {
    const stops = circles.flatMap((c, i) => [c.minutes, ACCESS_BANDS[Math.min(i, ACCESS_BANDS.length - 1)]]);
    return stops.length ? ['match', ['coalesce', ['get', 'band'], -1], ...stops, ACCESS_BEYOND] : ACCESS_BEYOND;
  }

  /** Every building's walk to the kind picked (GET /v1/access/buildings) on the map, and the
   *  coverage of the community and its grids (GET /v1/access) in the panel. */
  async function showAccess() {
    const a = s.access;
    if (!s.community) return;
    a.busy = true;
    render();
    try {
      const q = `community=${encodeURIComponent(s.community)}&kind=${encodeURIComponent(a.kind)}`;
      const [data, fc] = await Promise.all([api(`/v1/access?${q}`), api(`/v1/access/buildings?${q}`)]);
      a.data = data;
      a.buildings = fc;
      a.circles = data.circles || [];
      a.on = true;
      addLayers();
      map.setPaintProperty('plan-access', 'circle-color', accessColour(a.circles));
      map.getSource('plan-access').setData(fc);
      map.setLayoutProperty('plan-access', 'visibility', 'visible');
    } catch (e) {
      a.on = false;
      setStatus('error', t('error', { detail: errorText(e) }));
    }
    a.busy = false;
    render();
  }

  function hideAccess() {
    s.access.on = false;
    s.access.data = null;
    if (map.getLayer('plan-access')) map.setLayoutProperty('plan-access', 'visibility', 'none');
    render();
  }

  function accessSection() {
    const a = s.access;
    const options = ACCESS_KINDS.map((k) => el('option', { value: k, selected: k === a.kind }, maybe(`kind.${k}`) ?? k));
    const pct = (x) => (x === null || x === undefined ? '–' : `${Math.round(x * 100)}%`);
    const community = a.on ? a.data?.communities?.[0] : null;
    const ka = community?.kinds?.[0];
    const grids = a.on ? (a.data?.grids || []).filter((g) => g.residents > 0) : [];
    return el('div.plan-section', { id: 'plan-access', 'data-on': a.on ? 'yes' : 'no' },
      el('h3', t('access_title')),
      el('div.field-row',
        el('label.field', el('span', t('access_kind')),
          el('select', { id: 'plan-access-kind', onchange: (e) => { a.kind = e.target.value; if (a.on) showAccess(); else render(); } }, options)),
        el('div.actions',
          el('button', { type: 'button', id: 'plan-access-show', disabled: a.busy, onclick: showAccess }, t('access_show')),
          a.on ? el('button.linkish', { type: 'button', id: 'plan-access-hide', onclick: hideAccess }, t('access_hide')) : null)),
      a.on && ka ? el('div.access-legend', { id: 'plan-access-legend' },
        el('p.muted', t('access_circle', { kind: maybe(`kind.${ka.kind}`) ?? ka.kind, m: ka.circle.minutes, d: number(Math.round(ka.circle.metres)), speed: number(a.data.speed_m_per_min) })),
        el('div.plan-keys',
          a.circles.map((c, i) => el('span', el('i.key.dot', { style: { background: ACCESS_BANDS[Math.min(i, ACCESS_BANDS.length - 1)] } }),
            t('access_band', { m: c.minutes, d: number(Math.round(c.metres)) }))),
          el('span', el('i.key.dot', { style: { background: ACCESS_BEYOND } }), t('access_beyond'))),
        el('p', t('access_community', { share: pct(ka.covered_share), n: number(ka.residents_beyond) }))) : null,
      a.on && grids.length ? el('table.access-grids', { id: 'plan-access-grids' },
        el('thead', el('tr', el('th', t('access_grid')), el('th', t('access_residents')), el('th', t('access_covered')), el('th', t('access_beyond_n')))),
        el('tbody', grids.map((g) => {
          const k = g.kinds[0];
          return el('tr', { 'data-grid': g.code },
            el('td', el('span.mono', { translate: 'no' }, String(g.code).slice(12) || g.code)),
            el('td', number(g.residents)), el('td', pct(k?.covered_share)), el('td', number(k?.residents_beyond ?? 0)));
        }))) : null,
      a.on && ka?.furthest?.length ? el('div.access-far',
        el('p.muted', t('access_furthest')),
        el('ul.defects', { id: 'plan-access-far' }, ka.furthest.slice(0, 5).map((b) => el('li',
          code(b.address || b.id), ' · ', t('residents', { n: number(b.residents) }), ' · ',
          b.metres === null ? t('access_unreached') : t('access_metres', { n: number(Math.round(b.metres)) }))))) : null);
  }

  function showPlanGrids(fc) {
    addLayers();
    map.getSource('plan-grids').setData(fc || empty);
    s.planFc = fc || null;
    const labels = (fc?.features || []).filter((f) => f.properties.level !== 'micro' && f.geometry).map((f) => {
      const at = labelPoint(f.geometry);
      return at && { type: 'Feature', properties: f.properties, geometry: { type: 'Point', coordinates: at } };
    }).filter(Boolean);
    map.getSource('plan-labels').setData({ type: 'FeatureCollection', features: labels });
    const box = fc && bbox(fc.features);
    // fitBounds adds its padding to the map's own, which easeTo({padding}) left set.
    if (box) map.setPadding({ top: 0, right: 0, bottom: 0, left: 0 });
    if (box) map.fitBounds([[box[0], box[1]], [box[2], box[3]]], { padding: padding(), duration: 600, maxZoom: 17 });
    map.setPaintProperty('plan-fill', 'fill-color', sizeFill());
    // The published grids and the density ramp would show through the draft's colours.
    for (const id of [...PUBLISHED_GRID_LAYERS, 'density']) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', fc ? 'none' : 'visible');
    s.layersOn = !!fc;
  }

  function highlight(diff) {
    if (!diff) dv.clear();
    if (!map.getLayer('plan-changed')) return;
    const codes = diff ? [...(diff.created || []), ...(diff.changed || []).map((c) => c.code ?? c)] : [];
    const moved = diff ? (diff.moved_buildings || []).map((m) => m.building) : [];
    map.setFilter('plan-changed', ['in', ['get', 'code'], ['literal', codes]]);
    map.setFilter('plan-moved', ['in', ['get', 'id'], ['literal', moved]]);
  }

  function clearPlan() {
    if (!map.getSource('plan-grids')) return;
    showPlanGrids(null);
    map.getSource('plan-defects').setData(empty);
    highlight(null);
    s.defects = null;
    s.diff = null;
  }

  function reloadTiles(version) {
    reload(map, version);
  }

  function flyToCommunity() {
    const c = s.communities.find((x) => x.code === s.community);
    if (c?.box) map.setPadding({ top: 0, right: 0, bottom: 0, left: 0 });
    if (c?.box) map.fitBounds([[c.box[0], c.box[1]], [c.box[2], c.box[3]]], { padding: padding(), duration: 700, maxZoom: 17 });
  }

  // ---- actions ---------------------------------------------------------------------------------------

  async function runPartition(kind) {
    const dataset = $('plan-dataset')?.value;
    if (!dataset) return;
    const min = Number($('plan-min').value) || undefined;
    const max = Number($('plan-max').value) || undefined;
    // Re-partition honours the bounds typed too (left empty: the version's own).
    const body = kind === 'partition' ? { min, max, micro: $('plan-micro').checked } : { min, max };
    s.problems = null;
    setStatus('busy', t('running'));
    try {
      const answer = await call(`/v1/datasets/${encodeURIComponent(dataset)}/${kind}`, { method: 'POST', body });
      s.draft = answer.draft;
      s.report = answer.report;
      if (min && max) s.bounds = { min, max };
      const b = answer.report?.bounds;
      if (b && Number.isFinite(b.min) && Number.isFinite(b.max)) s.bounds = { min: b.min, max: b.max };
      s.defects = null;
      s.diff = null;
      const fc = await call(`/v1/drafts/${encodeURIComponent(s.draft.id)}/grids`);
      showPlanGrids(fc);
      map.getSource('plan-defects').setData(empty);
      highlight(null);
      setStatus('ok', t('draft_grids', { n: fc.features.filter((f) => f.properties.level !== 'micro').length }));
      await loadDrafts();
    } catch (e) {
      setStatus('error', t('error', { detail: errorText(e) }));
    }
    render();
  }

  /** Uploads the picked files of a dataset folder (POST /v1/datasets as a multipart form, so the
   *  bytes arrive as they are: a GBK file is refused by name instead of being read as mojibake);
   *  a rejection lists every problem with its file, feature and field, and nothing is stored. */
  async function upload() {
    const files = [...($('plan-files')?.files || [])];
    if (!files.length) {
      setStatus('error', t('upload_pick'));
      return;
    }
    setStatus('busy', t('running'));
    s.problems = null;
    try {
      const body = new FormData();
      body.append('source', files.map((f) => f.name).join(', ').slice(0, 200));
      for (const f of files) body.append('files', f, f.name);
      const answer = await call('/v1/datasets', { method: 'POST', body });
      const d = answer.dataset || {};
      await loadDatasets();
      s.picked = d.id;
      s.uploadOpen = false;
      fileInput.value = '';
      setStatus('ok', t('uploaded', { id: d.id, communities: number(d.communities ?? 0), buildings: number(d.buildings ?? 0) }));
    } catch (e) {
      const problems = e instanceof ApiError ? e.problem?.problems : null;
      if (Array.isArray(problems) && problems.length) {
        s.problems = problems;
        setStatus('error', t('upload_rejected', { n: problems.length }));
      } else {
        setStatus('error', t('error', { detail: errorText(e) }));
      }
    }
    render();
  }

  /** One problem of a rejected upload: where (file, feature, field: as they are in the
   *  planner's files) and what, worded by its kind in Chinese, or the service's message in English. */
  function problemText(p) {
    const zh = getLang() === 'zh';
    const what = zh ? maybe(`input.${p.kind}`) ?? t('input.other') : p.message;
    return [
      code(p.file),
      p.feature ? [' ', code(`features[${p.feature.index}]`), p.feature.id ? ['（', code(p.feature.id), '）'] : null] : null,
      p.field ? [' · ', code(p.field)] : null,
      zh ? '：' : ': ',
      what,
    ];
  }

  /** A validation defect: its kind in the page's language, the grids concerned, its size. */
  function defectText(d) {
    return [
      el('span.defect-kind', maybe(`defect.${d.kind}`) ?? t('defect.other')),
      (d.codes || []).length ? [' ', code((d.codes || []).join(', '))] : null,
      d.item ? [' ', code(d.item)] : null,
      d.area_m2 ? ` · ${t('area_m2', { n: number(Math.round(d.area_m2)) })}` : '',
      d.length_m ? ` · ${t('length_m', { n: number(Math.round(d.length_m)) })}` : ''];
  }

  /** A version's note: the planner's words as given; what the service appended (the loading
   *  note, a rollback, an override, grids left without staff) in the page's language. */
  function versionNote(note) {
    const parts = [];
    let rest = String(note);
    if (getLang() === 'zh') {
      const tail = [];
      const override = / \[published with (\d+) validation defects? over the check, because: (.*?)\]/.exec(rest);
      if (override) { tail.push(t('note.override', { n: override[1], reason: '\u0000' })); rest = rest.replace(override[0], ''); }
      const unstaffed = / \[published with no grid worker yet in ([^\]]*)\]/.exec(rest);
      if (unstaffed) { tail.push(t('note.unstaffed', { grids: '\u0001' })); rest = rest.replace(unstaffed[0], ''); }
      const large = / \[large moves confirmed: (\d+) residents change grid[^\]]*\]/.exec(rest);
      if (large) { tail.push(t('note.large_moves', { n: number(Number(large[1])) })); rest = rest.replace(large[0], ''); }
      const rolled = /^rollback to version (\d+)$/.exec(rest);
      if (rest === 'loaded by wangge serve') parts.push(t('note.loaded'));
      else if (rolled) parts.push(t('note.rollback', { n: rolled[1] }));
      else if (rest) parts.push(asGiven(rest));
      for (const text of tail) {
        if (!/[\u0000\u0001]/.test(text)) { parts.push(text); continue; }
        const [before, after] = text.split(/[\u0000\u0001]/);
        parts.push(before, asGiven(text.includes('\u0000') ? override[2] : unstaffed[1]), after);
      }
      return parts;
    }
    return [asGiven(rest)];
  }

  async function validate() {
    setStatus('busy', t('running'));
    try {
      const answer = await call(`/v1/drafts/${encodeURIComponent(s.draft.id)}/validate`, { method: 'POST' });
      s.defects = answer;
      map.getSource('plan-defects').setData(answer.defects || empty);
      const n = answer.defects?.features?.length ?? answer.report?.defects?.length ?? 0;
      setStatus(n ? 'error' : 'ok', n ? t('defects', { n }) : t('validated_ok'));
    } catch (e) {
      setStatus('error', t('error', { detail: errorText(e) }));
    }
    render();
  }

  async function draftDiff() {
    setStatus('busy', t('running'));
    try {
      const current = s.versions.find((v) => v.current);
      const [diff, old] = await Promise.all([
        call(`/v1/drafts/${encodeURIComponent(s.draft.id)}/diff`),
        current ? api(`/v1/versions/${current.number}/grids`) : Promise.resolve(null)]);
      s.diff = diff;
      s.diffLabel = `${t('current')} → ${t('draft')} ${s.draft.id}`;
      highlight(s.diff);
      dv.show(diff, { old, now: s.planFc, draft: s.draft.id });
      setStatus('ok', s.diffLabel);
    } catch (e) {
      setStatus('error', t('error', { detail: errorText(e) }));
    }
    render();
  }

  /**
   * Publishes the draft. The service refuses one that does not validate clean (422 with its
   * defects): they are listed, and it goes out only with a reason the planner writes
   * (`overrideReason`), which the version's note keeps.
   */
  async function publish(overrideReason, acknowledgeUnstaffed = false, confirmLargeMoves = false) {
    const note = $('plan-note').value.trim();
    if (!note) {
      setStatus('error', t('need_note'));
      $('plan-note').focus();
      return;
    }
    const body = { note };
    s.note = note; // kept across the re-render that lists what the service refused
    if (typeof overrideReason === 'string') {
      if (!overrideReason.trim()) {
        setStatus('error', t('need_reason'));
        $('plan-override')?.focus();
        return;
      }
      body.override_reason = overrideReason.trim();
    }
    if (acknowledgeUnstaffed) body.acknowledge_unstaffed = true;
    if (confirmLargeMoves) body.confirm_large_moves = true;
    setStatus('busy', t('running'));
    try {
      const answer = await call(`/v1/drafts/${encodeURIComponent(s.draft.id)}/publish`, { method: 'POST', body });
      const n = answer.version?.number;
      s.refused = null;
      s.unstaffed = null;
      s.note = '';
      s.draft = null;
      s.report = null;
      clearPlan();
      reloadTiles(n);
      await Promise.all([loadVersions(), loadDrafts()]);
      setStatus('ok', t('published', { n }));
    } catch (e) {
      if (e instanceof ApiError && e.status === 422 && e.problem?.code === 'large_moves_unconfirmed' && e.problem.large_moves) {
        // Many residents change grid: the planner sees the largest moves and confirms, or goes back.
        setStatus('error', t('dv_confirm_needed', { n: number(e.problem.large_moves.moved_residents ?? 0) }));
        if (await dv.confirmLargeMoves(e.problem.large_moves)) return publish(overrideReason, acknowledgeUnstaffed, true);
        setStatus('error', t('dv_not_confirmed'));
      } else if (e instanceof ApiError && e.status === 422 && Array.isArray(e.problem?.unstaffed)) {
        s.unstaffed = { draft: s.draft.id, grids: e.problem.unstaffed, reason: overrideReason };
        setStatus('error', t('publish_unstaffed', { n: e.problem.unstaffed.length }));
      } else if (e instanceof ApiError && e.status === 422 && Array.isArray(e.problem?.defects)) {
        s.refused = { draft: s.draft.id, defects: e.problem.defects, details: e.problem.defect_details, note };
        setStatus('error', t('publish_refused', { n: e.problem.defects.length }));
      } else {
        setStatus('error', t('error', { detail: errorText(e) }));
      }
    }
    render();
  }

  async function rollback(n) {
    if (!window.confirm(t('rollback_confirm', { n }))) return;
    setStatus('busy', t('running'));
    try {
      const answer = await call(`/v1/versions/${n}/rollback`, { method: 'POST', body: {} });
      clearPlan();
      reloadTiles(answer.version?.number);
      await loadVersions();
      setStatus('ok', t('rolled_back', { from: n, n: answer.version?.number }));
    } catch (e) {
      setStatus('error', t('error', { detail: errorText(e) }));
    }
    render();
  }

  async function compare() {
    const a = $('plan-a').value;
    const b = $('plan-b').value;
    if (!a || !b) return;
    setStatus('busy', t('running'));
    try {
      const [diff, fc, old] = await Promise.all([api(`/v1/versions/${a}/diff/${b}`), api(`/v1/versions/${b}/grids`), api(`/v1/versions/${a}/grids`)]);
      s.diff = diff;
      s.diffLabel = `${t('version_n', { n: a })} → ${t('version_n', { n: b })}`;
      showPlanGrids(fc);
      highlight(diff);
      dv.show(diff, { old, now: fc });
      setStatus('ok', s.diffLabel);
    } catch (e) {
      setStatus('error', t('error', { detail: errorText(e) }));
    }
    render();
  }

  // ---- rendering ---------------------------------------------------------------------------------------

  function renderStatus() {
    const node = $('plan-status');
    if (!node) return;
    node.className = `plan-status ${s.status?.kind || ''}`;
    node.textContent = s.status?.text || '';
  }

  /** The report's headline numbers, labelled: a partition's per-community figures, or a
   *  re-partition's kept/moved counts, and the self-check every report carries. */
  function reportRows(report) {
    if (!report) return [];
    const rows = [];
    const pct = (x) => `${Math.round(x * 1000) / 10}%`;
    const len = (x) => (Array.isArray(x) ? x.length : Number(x) || 0);
    if (Array.isArray(report.kept)) {
      // A re-partition (or an edit).
      const all = len(report.kept) + len(report.changed) + len(report.created);
      rows.push([t('r_kept'), `${number(len(report.kept))} / ${number(all)}`]);
      rows.push([t('created'), number(len(report.created))], [t('retired'), number(len(report.retired))]);
      const r = report.residents || {};
      if (r.total) rows.push([t('r_residents_kept'), pct(r.kept_share ?? 0)], [t('r_moved'), number(r.moved ?? 0)], [t('r_new'), number(r.new ?? 0)]);
      rows.push([t('r_out_of_bounds'), number(len(report.out_of_bounds))], [t('r_staff'), number(len(report.staff))]);
    }
    for (const c of Array.isArray(report.communities) ? report.communities : []) {
      if (c.basic_grids === undefined) continue;
      if ((report.communities.length || 0) > 1) rows.push([c.name || c.code, '']);
      rows.push([t('r_grids'), number(c.basic_grids)], [t('r_exclusive'), number(c.exclusive_grids ?? 0)]);
      if (c.micro_grids) rows.push([t('r_micro'), number(c.micro_grids)]);
      if (c.sizes) rows.push([t('r_sizes'), `${number(c.sizes.min)} / ${number(c.sizes.median)} / ${number(c.sizes.max)}`]);
      rows.push([t('r_in_bounds'), `${number(c.in_bounds ?? 0)} / ${number(c.basic_grids)}`]);
      if (Number.isFinite(c.compactness_mean)) rows.push([t('r_compact'), `${c.compactness_mean.toFixed(2)} / ${c.compactness_min.toFixed(2)}`]);
      if (Number.isFinite(c.road_or_compound_share)) rows.push([t('r_roads'), pct(c.road_or_compound_share)]);
      rows.push([t('r_split_compounds'), number(c.split_compounds ?? 0)]);
      if (c.warnings) rows.push([t('r_warnings'), number(len(c.warnings))]);
    }
    const v = report.verification;
    if (v) rows.push([t('r_cut'), number(len(v.buildings_cut))], [t('r_bad_edges'), number(len(v.bad_shared_edges) + len(v.unmatched_edges))]);
    return rows.slice(0, 40);
  }

  function diffSummary(diff) {
    const count = (x) => (Array.isArray(x) ? x.length : Number(x) || 0);
    const items = [
      ['created', diff.created], ['retired', diff.retired], ['changed', diff.changed], ['unchanged', diff.unchanged],
      ['moved_buildings', diff.moved_buildings], ['split', diff.split], ['merged', diff.merged],
    ];
    const chips = (list, cls) => (list || []).map((c) => el(`span.chip-code.${cls}`, String(c.code ?? c).slice(12) || String(c.code ?? c)));
    return el('div.diff', { 'data-diff': '' },
      el('p.muted', s.diffLabel || ''),
      el('ul.stats', items.map(([k, v]) => el('li', el('strong', number(count(v))), el('span', t(k))))),
      el('div.codes', chips(diff.created, 'created'), chips(diff.retired, 'retired'), chips((diff.changed || []).map((c) => c.code ?? c), 'changed')),
      dv.panel());
  }

  function render() {
    const community = s.communities.find((c) => c.code === s.community);
    const versionOptions = (selected) => s.versions.map((v) => el('option', { value: v.number, selected: String(v.number) === String(selected) },
      `${t('version_n', { n: v.number })}${v.current ? ` (${t('current')})` : ''}`));
    const current = s.versions.find((v) => v.current);
    const prev = s.versions.filter((v) => !v.current).map((v) => v.number).sort((a, b) => b - a)[0];
    const openable = s.drafts.filter((d) => String(d.id) !== String(s.draft?.id)).sort((a, b) => b.id - a.id);
    root.replaceChildren(
      el('div.plan-section',
        el('label.field', el('span', t('pick_community')),
          el('select', { id: 'plan-community', translate: 'no', onchange: (e) => { s.community = e.target.value; flyToCommunity(); if (s.access.on) showAccess(); else render(); } },
            s.communities.map((c) => el('option', { value: c.code, selected: c.code === s.community }, `${c.name || ''} ${c.code}`))),
        ),
        community ? el('a.button.print', { href: `/map/${encodeURIComponent(community.code)}.png`, target: '_blank', rel: 'noopener', id: 'plan-print' }, `🖨 ${t('print')}`) : null,
      ),
      accessSection(),
      el('div.plan-section',
        el('h3', t('draft')),
        el('label.field', el('span', t('dataset')),
          s.datasets.length
            ? el('select', { id: 'plan-dataset', translate: 'no', onchange: (e) => { s.picked = e.target.value; } }, s.datasets.map((d) => el('option', { value: d.id, selected: String(d.id) === String(s.picked ?? s.datasets[s.datasets.length - 1]?.id) }, `${d.id}${d.source ? ` · ${sourceName(d.source)}` : ''}${d.created_at ? ` · ${String(d.created_at).slice(0, 10)}` : ''}`)))
            : el('span.muted', t('no_datasets'))),
        el('details.upload', { open: s.uploadOpen || !s.datasets.length, ontoggle: (e) => { s.uploadOpen = e.target.open; } },
          el('summary', t('upload_dataset')),
          el('p.muted', t('upload_hint')),
          // The browser's own file button would say "Choose Files" / "No file chosen" in the
          // browser's language: a label in the page's language opens the hidden input instead.
          el('div.actions.file-pick',
            fileInput,
            el('label.button', { for: 'plan-files', id: 'plan-files-label' }, t('choose_files')),
            el('button', { type: 'button', id: 'plan-upload', onclick: upload }, t('upload'))),
          el('p.muted.files-chosen', { id: 'plan-files-chosen' }, ...chosenFiles())),
        el('div.field-row',
          el('label.field', el('span', t('bounds')),
            el('span.range', el('input', { id: 'plan-min', type: 'number', min: 1, step: 50, value: s.bounds.min, inputmode: 'numeric' }), '–',
              el('input', { id: 'plan-max', type: 'number', min: 1, step: 50, value: s.bounds.max, inputmode: 'numeric' }))),
          el('label.check', el('input', { id: 'plan-micro', type: 'checkbox', checked: true }), t('micro_grids'))),
        el('div.actions',
          el('button.primary', { type: 'button', id: 'plan-repartition', disabled: !s.datasets.length, onclick: () => runPartition('repartition') }, t('run_repartition')),
          el('button', { type: 'button', id: 'plan-partition', disabled: !s.datasets.length, onclick: () => runPartition('partition') }, t('run_partition'))),
        openable.length ? el('div.actions.open-draft',
          el('label.field', el('span', t('open_draft')),
            el('select', { id: 'plan-drafts' }, openable.map((d) => el('option', { value: d.id },
              `${t('draft')} ${d.id} · ${maybe(`origin.${d.origin}`) ?? t('origin.other')}${d.created_at ? ` · ${String(d.created_at).replace('T', ' ').slice(0, 16)}` : ''}`)))),
          el('button', { type: 'button', id: 'plan-open-draft', onclick: () => openDraft($('plan-drafts').value) }, t('open'))) : null,
        el('p', { id: 'plan-status', class: `plan-status ${s.status?.kind || ''}`, role: 'status' }, s.status?.text || ''),
        s.problems ? el('ul.defects', { id: 'plan-problems' }, s.problems.slice(0, 50).map((p) => el('li', problemText(p)))) : null,
        s.draft ? el('div.draft', { 'data-draft': s.draft.id },
          el('p', el('strong', `${t('draft')} ${s.draft.id}`), s.draft.origin ? el('span.muted', { 'data-origin': s.draft.origin }, ` · ${maybe(`origin.${s.draft.origin}`) ?? t('origin.other')}`) : null),
          s.layersOn ? el('div.plan-legend',
            el('p.muted', t('legend_plan'), ` (${number(s.bounds.min)}–${number(s.bounds.max)})`),
            el('div.ramp', el('span', { style: { background: `linear-gradient(90deg, ${UNDER_FAR}, ${UNDER_NEAR} 33%, ${IN_BAND} 33% 66%, ${OVER_NEAR} 66%, ${OVER_FAR})` } })),
            el('div.ramp-labels', el('span', t('plan_under')), el('span', t('plan_inside')), el('span', t('plan_over'))),
            el('div.plan-keys',
              el('span', el('i.key', { style: { borderColor: DEFECT } }), t('plan_defect')),
              el('span', el('i.key', { style: { borderColor: CHANGED } }), t('plan_changed')))) : null,
          s.report ? el('details.report', { open: true }, el('summary', t('report')),
            el('dl.facts', reportRows(s.report).map(([k, v]) => el('div.row', el('dt', k), el('dd', v))))) : null,
          el('div.actions',
            el('button', { type: 'button', id: 'plan-validate', onclick: validate }, t('validate')),
            el('button', { type: 'button', id: 'plan-diff', onclick: draftDiff }, t('diff_current'))),
          s.defects ? el('ul.defects', { id: 'plan-defects' }, (s.defects.defects?.features || []).map((f) => el('li', { 'data-kind': f.properties.kind }, defectText(f.properties)))) : null,
          el('div.publish',
            el('input', { id: 'plan-note', type: 'text', placeholder: t('publish_note'), maxlength: 500, value: s.note || '' }),
            el('button.primary', { type: 'button', id: 'plan-publish', onclick: () => publish() }, t('publish'))),
          s.refused && s.refused.draft === s.draft.id ? el('div.refused', { id: 'plan-refused' },
            el('p.notice', t('publish_refused', { n: s.refused.defects.length })),
            el('ul.defects', Array.isArray(s.refused.details)
              ? s.refused.details.slice(0, 50).map((d) => el('li', { 'data-kind': d.kind }, defectText(d)))
              // A service without `defect_details` (older): its messages, which are English.
              : s.refused.defects.slice(0, 50).map((d) => el('li', d))),
            s.refused.defects.length > 50 ? el('p.muted', t('more_defects', { n: s.refused.defects.length - 50 })) : null,
            el('input', { id: 'plan-override', type: 'text', placeholder: t('override_reason'), maxlength: 300 }),
            el('button', { type: 'button', id: 'plan-publish-anyway', onclick: () => publish($('plan-override').value) }, t('publish_anyway'))) : null,
          s.unstaffed && s.unstaffed.draft === s.draft.id ? el('div.refused', { id: 'plan-unstaffed' },
            el('p.notice', t('publish_unstaffed', { n: s.unstaffed.grids.length })),
            el('ul.defects', s.unstaffed.grids.map((g) => el('li', { 'data-grid': g }, code(g)))),
            el('button', { type: 'button', id: 'plan-publish-unstaffed', onclick: () => publish(s.unstaffed.reason, true) }, t('publish_unstaffed_anyway'))) : null) : null,
        s.diff ? diffSummary(s.diff) : null,
      ),
      s.staff ? staffEditor() : el('div.plan-section', el('p.muted', t('staff_hint'))),
      el('div.plan-section',
        el('h3', t('versions')),
        el('ul.versions', { id: 'plan-versions' }, [...s.versions].sort((a, b) => b.number - a.number).map((v) => el('li', { 'data-version': v.number, class: v.current ? 'current' : '' },
          el('div.v-head', el('strong', t('version_n', { n: v.number })), v.current ? el('span.badge', t('current')) : null,
            el('span.muted', ` ${String(v.published_at || '').replace('T', ' ').slice(0, 16)} · ${number(v.grids ?? 0)}`)),
          v.note ? el('div.v-note', versionNote(v.note)) : null,
          v.current ? null : el('button.linkish', { type: 'button', onclick: () => rollback(v.number) }, t('rollback'))))),
        s.versions.length > 1 ? el('div.compare',
          el('span', t('compare_with')),
          el('select', { id: 'plan-a' }, versionOptions(prev)),
          el('span', '→'),
          el('select', { id: 'plan-b' }, versionOptions(current?.number)),
          el('button', { type: 'button', id: 'plan-compare', onclick: compare }, t('compare'))) : null,
        s.layersOn ? el('button.linkish', { type: 'button', onclick: () => { clearPlan(); render(); } }, t('clear_plan')) : null,
      ),
      el('div.plan-section.plan-foot', el('button.linkish', { type: 'button', id: 'plan-logout', onclick: logout }, t('logout'))),
    );
  }

  onLangChange(() => { if (!root.hidden) render(); });

  // One file input for the panel's life: a re-render must not drop the files picked.
  const fileInput = el('input.visually-hidden', {
    id: 'plan-files', type: 'file', multiple: true, accept: '.geojson,.json,application/geo+json,application/json',
    onchange: () => $('plan-files-chosen')?.replaceChildren(...chosenFiles()),
  });

  /** The files picked for an upload, by name, or "none chosen". */
  function chosenFiles() {
    const files = [...(fileInput.files || [])];
    return files.length ? [t('files_chosen', { n: files.length }), code(files.map((f) => f.name).join('、'))] : [t('no_files')];
  }

  /** A dataset's source as the planner knows it: a folder's or file's name, never the server's path to it. */
  function sourceName(source) {
    return String(source).split(/,\s*/).map((part) => part.replace(/[\\/]+$/, '').split(/[\\/]/).pop()).join(', ');
  }

  window.wangge.planner = s;
  // ---- grid workers ---------------------------------------------------------------------------

  /** A planner clicked the map: the published grid there, with its workers to edit. */
  async function pickGrid(lon, lat) {
    try {
      const grid = await api(`/v1/lookup?lon=${lon}&lat=${lat}`);
      selectGrid(grid.code);
      let rows = grid.staff || [];
      try { rows = await api(`/v1/grids/${encodeURIComponent(grid.code)}/staff`); } catch { /* the lookup's list */ }
      if (!Array.isArray(rows)) rows = rows.staff || [];
      s.staff = { code: grid.code, rows: rows.map(({ name, role, phone }) => ({ name, role, phone: phone || '' })), status: null };
    } catch (e) {
      s.staff = null;
      setStatus('error', e instanceof ApiError && e.status === 404 ? t('no_grid') : t('error', { detail: errorText(e) }));
    }
    render();
    $('plan-staff')?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }

  async function saveStaff() {
    const rows = [...root.querySelectorAll('.staff-row')].map((r) => ({
      name: r.querySelector('[name=name]').value.trim(),
      role: r.querySelector('[name=role]').value.trim(),
      phone: r.querySelector('[name=phone]').value.trim() || null,
    })).filter((r) => r.name);
    try {
      await call(`/v1/grids/${encodeURIComponent(s.staff.code)}/staff`, { method: 'PUT', body: rows });
      s.staff.rows = rows;
      s.staff.status = { kind: 'ok', text: t('staff_saved') };
    } catch (e) {
      s.staff.status = { kind: 'error', text: t('error', { detail: errorText(e) }) };
    }
    render();
  }

  function staffEditor() {
    const st = s.staff;
    const row = (r = {}) => el('div.staff-row',
      el('input', { name: 'name', placeholder: t('staff_name'), value: r.name || '' }),
      el('input', { name: 'role', placeholder: t('staff_role'), value: r.role || '' }),
      el('input', { name: 'phone', placeholder: t('phone'), value: r.phone || '', inputmode: 'tel' }),
      el('button.linkish', { type: 'button', title: t('remove'), onclick: (e) => e.target.closest('.staff-row').remove() }, '✕'));
    const list = el('div.staff-rows', st.rows.map(row));
    return el('div.plan-section', { id: 'plan-staff', 'data-staff': st.code },
      el('h3', `${t('staff_edit')} · `, el('span.mono', st.code)),
      list,
      el('div.actions',
        el('button', { type: 'button', id: 'plan-staff-add', onclick: () => list.append(row({ role: '网格员' })) }, `+ ${t('staff_add')}`),
        el('button.primary', { type: 'button', id: 'plan-staff-save', onclick: saveStaff }, t('save'))),
      st.status ? el('p', { class: `plan-status ${st.status.kind}` }, st.status.text) : null);
  }

  return { enter, leave, pickGrid };
}
