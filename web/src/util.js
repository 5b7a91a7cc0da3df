// Small helpers shared by the resident and planner views: the API call, a DOM builder (text is
// always set as text, never parsed as HTML: names and notes come from data) and bounding boxes.

/** An error answer from the service (RFC 9457 problem details). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** What a page needs to know of where it runs. The page `wangge serve` serves has neither tag; a
 * static folder (`wangge tiles export --static`) names its PMTiles archive and, when exported with
 * `--api-url`, the service lookups are asked of. */
const metaTag = (name) => document.querySelector(`meta[name="${name}"]`)?.content || null;
export const staticArchive = metaTag('wangge-archive');
export const apiBase = (metaTag('wangge-api') || '').replace(/\/$/, '');

/**
 * Calls the service (at `apiBase`, when the page is a static folder's). `token` adds `Authorization: Bearer`; a `FormData` body is sent as a
 * multipart form (the browser sets its boundary), any other `body` as JSON.
 * `signal` (an AbortController's) cancels it. Resolves to the parsed JSON (or null for 204),
 * rejects with ApiError (or the fetch's AbortError).
 */
export async function api(path, { method = 'GET', body, token, signal } = {}) {
  if (staticArchive && !apiBase) throw new ApiError(0, { code: 'static_no_api', detail: 'This map is a static copy with no wangge service to ask (export it with --api-url): it shows the grids only.' });
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const form = typeof FormData !== 'undefined' && body instanceof FormData;
  if (body !== undefined && !form) headers['Content-Type'] = 'application/json';
  const res = await fetch(apiBase + path, { method, headers, signal, body: body === undefined || form ? body : JSON.stringify(body) });
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json().catch(() => null) : null;
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** `el('div.card', {onclick}, child, 'text', …)`: an element with classes, attributes, children. */
export function el(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const node = document.createElement(tag || 'div');
  if (classes.length) node.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = {};
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'style' && typeof v === 'object') Object.assign(node.style, v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** [west, south, east, north] of GeoJSON geometries or features. */
export function bbox(items) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const visit = (c) => {
    if (typeof c[0] === 'number') {
      b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
      b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
    } else for (const x of c) visit(x);
  };
  for (const it of items) {
    const g = it.geometry || it;
    if (g && g.coordinates) visit(g.coordinates);
  }
  return Number.isFinite(b[0]) ? b : null;
}

/** Whether [lon, lat] lies inside a (Multi)Polygon (even-odd rule over every ring). */
export function contains(geometry, [x, y]) {
  const parts = geometry?.type === 'Polygon' ? [geometry.coordinates] : geometry?.type === 'MultiPolygon' ? geometry.coordinates : [];
  return parts.some((rings) => {
    let inside = false;
    for (const r of rings) {
      for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
        const [xi, yi] = r[i];
        const [xj, yj] = r[j];
        if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
      }
    }
    return inside;
  });
}

/**
 * A point well inside a (Multi)Polygon, for its label: the point of a coarse grid, refined once,
 * farthest from the largest part's edges (labelling the polygon itself would repeat the label in
 * every tile the polygon crosses).
 */
export function labelPoint(geometry) {
  const parts = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
  if (!parts.length) return null;
  const ringArea = (r) => Math.abs(r.reduce((a, p, i) => { const q = r[(i + 1) % r.length]; return a + p[0] * q[1] - q[0] * p[1]; }, 0)) / 2;
  const poly = parts.reduce((a, b) => (ringArea(b[0]) > ringArea(a[0]) ? b : a));
  const k = Math.cos((poly[0][0][1] * Math.PI) / 180); // metres east per metre north, roughly
  const inside = (x, y) => {
    let c = false;
    for (const r of poly) {
      for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
        const [xi, yi] = r[i];
        const [xj, yj] = r[j];
        if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
      }
    }
    return c;
  };
  const edgeDistance = (x, y) => {
    let best = Infinity;
    for (const r of poly) {
      for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
        const ax = r[j][0] * k; const ay = r[j][1]; const bx = r[i][0] * k; const by = r[i][1];
        const dx = bx - ax; const dy = by - ay;
        const t = dx || dy ? Math.max(0, Math.min(1, ((x * k - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy))) : 0;
        best = Math.min(best, Math.hypot(x * k - (ax + t * dx), y - (ay + t * dy)));
      }
    }
    return best;
  };
  const search = ([w, s, e, n], steps) => {
    let best = null;
    let bestD = -1;
    for (let i = 0; i < steps; i++) {
      for (let j = 0; j < steps; j++) {
        const x = w + ((e - w) * (i + 0.5)) / steps;
        const y = s + ((n - s) * (j + 0.5)) / steps;
        if (!inside(x, y)) continue;
        const d = edgeDistance(x, y);
        if (d > bestD) { bestD = d; best = [x, y]; }
      }
    }
    return best;
  };
  const box = bbox([{ type: 'Polygon', coordinates: poly }]);
  const coarse = search(box, 14);
  if (!coarse) return poly[0][0];
  const cw = (box[2] - box[0]) / 14;
  const ch = (box[3] - box[1]) / 14;
  return search([coarse[0] - cw, coarse[1] - ch, coarse[0] + cw, coarse[1] + ch], 8) || coarse;
}

/** The service serves another version: the source follows that version's own TileJSON (and
 *  through it the version's immutable tile URLs). Setting only the tiles would leave the source
 *  re-reading the old version's TileJSON on every reload, which answers 410 once that version
 *  is no longer served. */
export function reloadTiles(map, version) {
  const src = map.getSource('wangge');
  if (src?.setUrl && !String(src.url || '').startsWith('pmtiles://')) {
    src.setUrl(`${location.origin}/v/${encodeURIComponent(version)}/tiles.json`);
  }
}
