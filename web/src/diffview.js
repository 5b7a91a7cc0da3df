// The planner's diff view: old borders (dashed) and new borders together on the map, grids and
// micro-grids apart, changed ones marked; a table of every changed grid — residents and
// households in and out, from and to which grids, buildings — sortable, for hundreds of grids;
// the residents' notices of a draft (text, PDF, a PNG per building); and the dialog a planner
// confirms a large move in before it is published.
//
// Contract: GET /v1/drafts/{id}/diff and /v1/versions/{a}/diff/{b} answer `grids` and
// `micro_grids` ([{code, level, community, parent, change, residents_before, residents_after,
// residents_in, households_in, buildings_in, residents_out, households_out, buildings_out,
// from: [{code, residents, households, buildings}], to: [...]}]), `moves` and `large_moves`;
// GET /v1/drafts/{id}/notices?format=json|txt|png|pdf&from=YYYY-MM-DD[&building=ID];
// POST /v1/drafts/{id}/publish answers 422 code `large_moves_unconfirmed` with `large_moves`
// until the body says `confirm_large_moves: true`.

import { t, number, errorText } from './i18n.js';
import { el, bbox, ApiError } from './util.js';

const OLD_LINE = '#7b3fb0'; // purple: apart from the draft's dark lines and the orange of "changed"
const CHANGED = '#e07b00';
const empty = { type: 'FeatureCollection', features: [] };
const code = (text) => el('code', { translate: 'no' }, String(text));

/** "006" of 350206001017006: the part after the community's code, as planners say it. */
function shortCode(full, community) {
  const s = String(full ?? '');
  return community && s.startsWith(community) && s.length > community.length ? s.slice(community.length) : s;
}

/** Tomorrow as YYYY-MM-DD in the planner's own calendar: when a notice usually takes effect. */
function tomorrow() {
  const d = new Date(Date.now() + 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export function createDiffView({ map, padding, token, render, setStatus }) {
  const v = {
    diff: null,
    draft: null, // the draft the diff is of (notices are a draft's), or null for two versions
    old: null, // the older layer's FeatureCollection
    now: null, // the newer layer's FeatureCollection
    level: 'grid',
    sort: { key: 'moved', desc: true },
    notices: null, // {effective, notices: [...]}
    noticeDate: tomorrow(),
    busy: false,
  };

  // ---- map ---------------------------------------------------------------------------------

  function addLayers() {
    if (map.getSource('plan-old')) return;
    const before = map.getLayer('resources') ? 'resources' : undefined;
    map.addSource('plan-old', { type: 'geojson', data: empty });
    map.addLayer({ id: 'plan-diff-fill', type: 'fill', source: 'plan-grids', filter: ['in', ['get', 'code'], ['literal', []]],
      paint: { 'fill-color': CHANGED, 'fill-opacity': 0.22 } }, before);
    map.addLayer({ id: 'plan-old-line', type: 'line', source: 'plan-old', filter: ['==', ['get', 'level'], 'grid'],
      layout: { 'line-join': 'round', visibility: 'none' },
      paint: { 'line-color': OLD_LINE, 'line-width': 2.6, 'line-dasharray': [2, 1.5] } }, before);
  }

  /** The layer of one level shows; the other's borders go quiet. */
  function applyLevel() {
    if (!map.getLayer('plan-old-line')) return;
    const on = !!v.diff;
    const level = v.level;
    map.setLayoutProperty('plan-old-line', 'visibility', on ? 'visible' : 'none');
    map.setFilter('plan-old-line', ['==', ['get', 'level'], level]);
    map.setPaintProperty('plan-old-line', 'line-width', level === 'micro' ? 2 : 2.6);
    const codes = on ? changedCodes() : [];
    map.setFilter('plan-diff-fill', ['all', ['==', ['get', 'level'], level], ['in', ['get', 'code'], ['literal', codes]]]);
    // While comparing, a changed grid is tinted instead of outlined: its new border stays the
    // plain dark line, so old (dashed) and new read apart.
    if (on && map.getLayer('plan-changed')) map.setFilter('plan-changed', ['in', ['get', 'code'], ['literal', []]]);
    // Micro-grid borders at every zoom while they are the level compared; from z15 otherwise.
    if (map.getLayer('plan-micro')) {
      map.setLayerZoomRange('plan-micro', on && level === 'micro' ? 0 : 15, 24);
      map.setPaintProperty('plan-micro', 'line-color', on && level === 'micro' ? '#2b3a4a' : '#6b7785');
      map.setPaintProperty('plan-micro', 'line-width', on && level === 'micro' ? 1.6 : 0.8);
      // Solid while compared: dashes are the old borders' mark.
      map.setPaintProperty('plan-micro', 'line-dasharray', on && level === 'micro' ? null : [3, 2]);
    }
  }

  function rows() {
    if (!v.diff) return [];
    return (v.level === 'micro' ? v.diff.micro_grids : v.diff.grids) || [];
  }

  function changedCodes() {
    return rows().filter((g) => g.change !== 'retired').map((g) => g.code);
  }

  /** Shows a diff: `old` and `now` are the two layers (GeoJSON), `draft` the draft's id if any. */
  function show(diff, { old, now, draft = null }) {
    addLayers();
    v.diff = diff;
    v.old = old || empty;
    v.now = now || null;
    v.draft = draft;
    v.notices = null;
    map.getSource('plan-old').setData(v.old);
    applyLevel();
  }

  function clear() {
    v.diff = null;
    v.old = null;
    v.now = null;
    v.draft = null;
    v.notices = null;
    if (map.getSource('plan-old')) map.getSource('plan-old').setData(empty);
    applyLevel();
  }

  function flyTo(codeWanted) {
    const features = [...(v.now?.features || []), ...(v.old?.features || [])].filter((f) => f.properties?.code === codeWanted);
    const box = bbox(features);
    if (!box) return;
    map.setPadding({ top: 0, right: 0, bottom: 0, left: 0 });
    map.fitBounds([[box[0], box[1]], [box[2], box[3]]], { padding: padding(), duration: 500, maxZoom: 18 });
  }

  // ---- the table -------------------------------------------------------------------------------

  const SORTS = {
    moved: (g) => (g.residents_in || 0) + (g.residents_out || 0),
    in: (g) => g.residents_in || 0,
    out: (g) => g.residents_out || 0,
    after: (g) => g.residents_after || 0,
    code: (g) => g.code,
  };

  function sorted() {
    const key = SORTS[v.sort.key] || SORTS.moved;
    const sign = v.sort.desc ? -1 : 1;
    return [...rows()].sort((a, b) => {
      const x = key(a);
      const y = key(b);
      const c = typeof x === 'string' ? x.localeCompare(y) : x - y;
      return c ? sign * c : a.code.localeCompare(b.code);
    });
  }

  function sortBy(key) {
    v.sort = v.sort.key === key ? { key, desc: !v.sort.desc } : { key, desc: key !== 'code' };
    render();
  }

  /** "820 ← 003、746 ← 004" */
  function sources(list, community, arrow) {
    return (list || []).slice(0, 4).map((s, i) => [i ? '、' : '', number(s.residents), arrow,
      s.code ? code(shortCode(s.code, community)) : t('dv_nowhere')]).concat((list || []).length > 4 ? ['…'] : []);
  }

  /** "811 · 329 户", or a dash when nobody. */
  function people(residents, households) {
    if (!residents) return el('span.muted', '—');
    return [el('strong', number(residents)), el('span.muted', ` · ${t('dv_hh', { n: number(households || 0) })}`)];
  }

  function table() {
    const list = sorted();
    const head = (key, label) => el('th', { 'data-sort': key, class: v.sort.key === key ? 'sorted' : '', onclick: () => sortBy(key), title: t('dv_sort') },
      label, v.sort.key === key ? (v.sort.desc ? ' ▼' : ' ▲') : '');
    const chip = (key, label) => el('button.dv-sort', { type: 'button', 'data-sort': key, 'aria-pressed': String(v.sort.key === key), onclick: () => sortBy(key) },
      label, v.sort.key === key ? (v.sort.desc ? ' ▼' : ' ▲') : '');
    // Hundreds of rows stay quick: the table scrolls, rows are plain text.
    return [
      el('div.dv-sorts', el('span.muted', t('dv_sort_by')), chip('moved', t('dv_moved')), chip('in', t('dv_in')), chip('out', t('dv_out')), chip('code', t('dv_grid'))),
      el('div.dv-table-wrap',
        el('table.dv-table', { id: 'plan-diff-table' },
          el('thead', el('tr', head('code', t('dv_grid')), head('after', t('dv_residents')), head('in', t('dv_in')), head('out', t('dv_out')))),
          el('tbody', list.map((g) => el('tr', { 'data-code': g.code, 'data-change': g.change, onclick: () => flyTo(g.code) },
            el('td', code(shortCode(g.code, g.community)), el('div', el(`span.chip-code.${g.change}`, t(`dv_change_${g.change}`)))),
            el('td.num', el('div', number(g.residents_before)), el('div', `→ ${number(g.residents_after)}`)),
            el('td', el('div', people(g.residents_in, g.households_in)), el('div.dv-from', sources(g.from, g.community, '←')),
              g.buildings_in ? el('div.dv-from', t('dv_bld_n', { n: number(g.buildings_in) })) : null),
            el('td', el('div', people(g.residents_out, g.households_out)), el('div.dv-from', sources(g.to, g.community, '→')),
              g.buildings_out ? el('div.dv-from', t('dv_bld_n', { n: number(g.buildings_out) })) : null))))))];
  }

  // ---- notices ---------------------------------------------------------------------------------

  async function fetchNotices(format, building) {
    const q = new URLSearchParams({ format, from: v.noticeDate });
    if (building) q.set('building', building);
    const res = await fetch(`/v1/drafts/${encodeURIComponent(v.draft)}/notices?${q}`, { headers: { Authorization: `Bearer ${token()}` } });
    if (!res.ok) {
      const problem = await res.json().catch(() => null);
      throw new ApiError(res.status, problem);
    }
    return res;
  }

  async function loadNotices() {
    setStatus('busy', t('running'));
    try {
      v.notices = await (await fetchNotices('json')).json();
      setStatus('ok', t('dv_notices_ready', { n: number(v.notices.notices.length) }));
    } catch (e) {
      v.notices = null;
      setStatus('error', t('error', { detail: errorText(e) }));
    }
    render();
  }

  /** Opens a notice file (fetched with the token, so a plain link cannot) as a download. */
  async function download(format, building) {
    setStatus('busy', t('running'));
    try {
      const res = await fetchNotices(format, building);
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const a = el('a', { href: url, download: `notices-draft-${v.draft}${building ? `-${building}` : ''}.${format}` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setStatus('ok', t('dv_downloaded'));
    } catch (e) {
      setStatus('error', t('error', { detail: errorText(e) }));
    }
  }

  function noticesPanel() {
    if (v.draft === null || v.draft === undefined) return null;
    const n = v.notices;
    return el('div.dv-notices', { id: 'plan-notices' },
      el('h4', t('dv_notices')),
      el('p.muted', t('dv_notices_hint')),
      el('div.actions',
        el('label.field.inline', el('span', t('dv_effective')),
          el('input', { id: 'plan-notice-date', type: 'date', value: v.noticeDate, onchange: (e) => { v.noticeDate = e.target.value; v.notices = null; } })),
        el('button', { type: 'button', id: 'plan-notices-load', onclick: loadNotices }, t('dv_notices_make')),
        el('button', { type: 'button', id: 'plan-notices-txt', onclick: () => download('txt') }, t('dv_notices_txt')),
        el('button', { type: 'button', id: 'plan-notices-pdf', onclick: () => download('pdf') }, t('dv_notices_pdf'))),
      n ? el('ol.dv-notice-list', { 'data-count': n.notices.length },
        n.notices.slice(0, 300).map((x) => el('li', { 'data-building': x.building },
          el('div', el('strong', x.place), ' → ', x.grid_label),
          el('p.dv-notice-text', x.text),
          el('button.linkish', { type: 'button', onclick: () => download('png', x.building) }, t('dv_notice_png'))))) : null,
      n && n.notices.length > 300 ? el('p.muted', t('dv_more', { n: number(n.notices.length - 300) })) : null);
  }

  // ---- the panel -------------------------------------------------------------------------------

  function panel() {
    if (!v.diff) return null;
    const d = v.diff;
    const large = d.large_moves;
    const moved = d.moved_residents ?? 0;
    return el('div.dv', { id: 'plan-diff-view', 'data-level': v.level },
      el('div.dv-toggle', { role: 'group' },
        el('button', { type: 'button', id: 'plan-diff-level-grid', 'aria-pressed': String(v.level === 'grid'), onclick: () => { v.level = 'grid'; applyLevel(); render(); } },
          t('dv_level_grid', { n: number((d.grids || []).length) })),
        el('button', { type: 'button', id: 'plan-diff-level-micro', 'aria-pressed': String(v.level === 'micro'), onclick: () => { v.level = 'micro'; applyLevel(); render(); } },
          t('dv_level_micro', { n: number((d.micro_grids || []).length) }))),
      el('div.plan-keys',
        el('span', el('i.key.dashed', { style: { borderColor: OLD_LINE } }), t('dv_old')),
        el('span', el('i.key.solid', { style: { borderColor: '#2b3a4a' } }), t('dv_new')),
        el('span', el('i.key.box', { style: { borderColor: CHANGED, background: 'rgba(224,123,0,.22)' } }), t('dv_changed'))),
      el('p.dv-moved', t('dv_moved_total', { n: number(moved) }),
        large ? el('span.dv-large', { id: 'plan-diff-large' }, ` ${t('dv_large')}`) : null),
      rows().length ? table() : el('p.muted', t('dv_none')),
      noticesPanel());
  }

  // ---- the large-move dialog ------------------------------------------------------------------

  /** Asks the planner to confirm a large move: resolves true to publish, false to go back. */
  function confirmLargeMoves(large) {
    document.getElementById('plan-moves-dialog')?.remove();
    const communities = (large.communities || []).map((c) => el('li', code(c.community), ' ', t('dv_c_over', { moved: number(c.moved), all: number(c.residents), pct: (c.share * 100).toFixed(1) })));
    const grids = (large.grids || []).slice(0, 10).map((g) => el('li', code(g.code), ' ', t('dv_g_over', { moved: number(g.residents_moved), all: number(g.residents_before), pct: Math.round(g.share * 100) })));
    const largest = el('table.dv-table', el('thead', el('tr', el('th', t('dv_from')), el('th', t('dv_to')), el('th', t('dv_residents')), el('th', t('dv_households')), el('th', t('dv_bld')))),
      el('tbody', (large.largest || []).map((m) => el('tr', el('td', code(m.from)), el('td', code(m.to)), el('td.num', number(m.residents)), el('td.num', number(m.households)), el('td.num', number(m.buildings))))));
    const dialog = el('dialog.dialog.dv-dialog', { id: 'plan-moves-dialog' },
      el('h2', t('dv_confirm_title')),
      el('p', t('dv_confirm_text', { n: number(large.moved_residents), c: Math.round((large.community_share ?? 0.1) * 100), g: Math.round((large.grid_loss_share ?? 0.3) * 100) })),
      communities.length ? el('ul.dv-over', communities) : null,
      grids.length ? el('ul.dv-over', grids) : null,
      el('h4', t('dv_largest')),
      el('div.dv-table-wrap', largest),
      el('p', t('dv_confirm_note')),
      el('div.dialog-actions',
        el('button', { type: 'button', id: 'plan-moves-cancel' }, t('dv_confirm_back')),
        el('button.primary', { type: 'button', id: 'plan-moves-confirm' }, t('dv_confirm_ok'))));
    document.body.append(dialog);
    return new Promise((resolve) => {
      const done = (ok) => { if (dialog.open) dialog.close(); dialog.remove(); resolve(ok); };
      dialog.querySelector('#plan-moves-cancel').addEventListener('click', () => done(false));
      dialog.querySelector('#plan-moves-confirm').addEventListener('click', () => done(true));
      dialog.addEventListener('cancel', (e) => { e.preventDefault(); done(false); });
      dialog.showModal();
    });
  }

  return { addLayers, show, clear, panel, confirmLargeMoves, state: v };
}
