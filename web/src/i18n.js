// The page's words in Chinese (the default) and English. Keys are stable; `t(key, vars)` fills
// `{name}` placeholders. The choice is kept in localStorage so a resident's language sticks.

const zh = {
  title: '网格服务地图',
  subtitle: '查网格 · 找网格员 · 寻身边服务',
  search_placeholder: '输入地址，如：嘉禾公寓3号楼',
  search: '查询',
  locate: '定位我的位置',
  locating: '正在定位…',
  locate_failed: '无法获取您的位置：{reason}',
  locate_insecure: '浏览器只在 https 或本机地址下提供定位',
  hint: '输入地址、点击地图上的任意位置，或使用定位，即可查看所属网格、网格员和附近的服务点。',
  summary: '{grids} 个网格 · {exclusive} 个专属网格 · 居民 {p} 人',
  your_grid: '您所在的网格',
  this_grid: '所选位置的网格',
  grid_code: '网格编码',
  basic: '基础网格',
  exclusive: '专属网格',
  community: '社区',
  residents: '{n} 人',
  households: '{n} 户',
  residents_households: '居民 {p} 人 · {h} 户',
  micro: '微网格',
  staff: '网格员',
  no_staff: '暂未登记网格员信息，请联系社区居委会。',
  call: '拨打',
  nearby: '附近的服务',
  nearby_none: '附近暂无此类服务点',
  near_clinic: '最近的卫生服务点',
  near_pharmacy: '最近的药店',
  near_shop: '最近的商店',
  walk: '{d} · 步行约 {m} 分钟',
  metres: '{n} 米',
  km: '{n} 公里',
  no_grid: '这里不在任何网格内。请点击社区范围内的位置。',
  no_address: '没有找到与“{q}”匹配的地址，请换个写法试试（例如写上小区名和楼号）。',
  candidates: '找到多个可能的地址，请选择：',
  error: '出错了：{detail}',
  loading: '正在查询…',
  back: '返回',
  close: '关闭',
  phone: '电话',
  hours: '开放时间',
  address: '地址',
  kind: '类型',
  distance: '距离',
  legend: '图例',
  legend_grids: '网格',
  legend_resources: '服务点（点击可筛选）',
  status_inside: '人数适中',
  status_under: '人数偏少',
  status_over: '人数偏多',
  status_exclusive: '专属网格（学校、市场等）',
  all: '全部',
  none: '清除',
  lang_switch: 'English',
  planner: '规划',
  resident: '居民',
  print: '打印网格图',
  attribution: '网格数据由街道办发布',
  // resource kinds
  'kind.clinic': '诊所 / 卫生站',
  'kind.hospital': '医院',
  'kind.pharmacy': '药店',
  'kind.dentist': '牙科',
  'kind.shop': '商店',
  'kind.supermarket': '超市',
  'kind.market': '菜市场',
  'kind.school': '学校',
  'kind.kindergarten': '幼儿园',
  'kind.elderly_care': '养老服务',
  'kind.service_center': '党群服务中心',
  'kind.other': '其他',
  // planner
  token_title: '规划人员登录',
  token_prompt: '请输入规划口令（令牌）。口令只保存在本浏览器标签页中。',
  token_placeholder: '口令',
  token_ok: '进入',
  token_cancel: '取消',
  token_bad: '口令不正确。',
  token_unsupported: '此服务尚未开放规划接口。',
  logout: '退出规划',
  pick_community: '选择社区',
  dataset: '数据集',
  no_datasets: '尚无数据集',
  bounds: '网格规模（人）',
  micro_grids: '划分微网格',
  run_partition: '全新划分',
  run_repartition: '在现行版本上调整',
  running: '计算中…',
  draft: '草案',
  draft_grids: '草案网格 {n} 个',
  validate: '检查',
  validated_ok: '检查通过，没有发现问题。',
  defects: '发现 {n} 个问题',
  diff_current: '与现行版本比较',
  publish: '发布',
  publish_note: '发布说明（必填）',
  published: '已发布为第 {n} 版。地图已更新。',
  versions: '版本',
  current: '现行',
  rollback: '回滚到此版本',
  rolled_back: '已回滚：第 {from} 版重新发布为第 {n} 版。',
  rollback_confirm: '确定要把第 {n} 版重新发布为现行版本吗？',
  compare: '比较',
  compare_with: '比较版本',
  created: '新增',
  retired: '撤销',
  changed: '调整',
  unchanged: '未变',
  moved_buildings: '变更楼栋',
  split: '拆分',
  merged: '合并',
  report: '划分报告',
  legend_plan: '草案网格人数（相对规模范围）',
  plan_under: '偏少',
  plan_inside: '适中',
  plan_over: '偏多',
  plan_defect: '问题位置',
  plan_changed: '有变化的网格 / 楼栋',
  clear_plan: '清除草案图层',
  staff_edit: '编辑网格员',
  staff_hint: '点击地图上的网格，可编辑该网格的网格员。',
  staff_name: '姓名',
  staff_role: '职务',
  staff_add: '添加',
  staff_saved: '网格员已保存。',
  save: '保存',
  remove: '删除',
  need_note: '请填写发布说明。',
  version_n: '第 {n} 版',
};

const en = {
  title: 'Community Grid Map',
  subtitle: 'Find your grid, your grid workers and services nearby',
  search_placeholder: 'Type an address, e.g. 嘉禾公寓3号楼',
  search: 'Search',
  locate: 'Use my location',
  locating: 'Locating…',
  locate_failed: 'Could not get your location: {reason}',
  locate_insecure: 'Browsers give your location only over https or on this machine',
  hint: 'Type an address, click anywhere on the map, or use your location to see your grid, its grid workers and the services nearby.',
  summary: '{grids} grids · {exclusive} exclusive · {p} residents',
  your_grid: 'Your grid',
  this_grid: 'Grid at this place',
  grid_code: 'Grid code',
  basic: 'Basic grid',
  exclusive: 'Exclusive grid',
  community: 'Community',
  residents: '{n} residents',
  households: '{n} households',
  residents_households: '{p} residents · {h} households',
  micro: 'Micro-grid',
  staff: 'Grid workers',
  no_staff: 'No grid workers recorded yet; please contact the residents’ committee.',
  call: 'Call',
  nearby: 'Services nearby',
  nearby_none: 'None nearby',
  near_clinic: 'Nearest clinic',
  near_pharmacy: 'Nearest pharmacy',
  near_shop: 'Nearest shop',
  walk: '{d} · about {m} min on foot',
  metres: '{n} m',
  km: '{n} km',
  no_grid: 'No grid covers this place. Click inside a community.',
  no_address: 'No address matches “{q}”. Try another wording (compound name and building number).',
  candidates: 'Several addresses match; pick one:',
  error: 'Something went wrong: {detail}',
  loading: 'Looking up…',
  back: 'Back',
  close: 'Close',
  phone: 'Phone',
  hours: 'Hours',
  address: 'Address',
  kind: 'Kind',
  distance: 'Distance',
  legend: 'Legend',
  legend_grids: 'Grids',
  legend_resources: 'Services (tap to filter)',
  status_inside: 'Within the size range',
  status_under: 'Below the size range',
  status_over: 'Above the size range',
  status_exclusive: 'Exclusive grid (school, market, …)',
  all: 'All',
  none: 'None',
  lang_switch: '中文',
  planner: 'Planner',
  resident: 'Resident',
  print: 'Print grid map',
  attribution: 'Grids published by the street office',
  'kind.clinic': 'Clinic',
  'kind.hospital': 'Hospital',
  'kind.pharmacy': 'Pharmacy',
  'kind.dentist': 'Dentist',
  'kind.shop': 'Shop',
  'kind.supermarket': 'Supermarket',
  'kind.market': 'Market',
  'kind.school': 'School',
  'kind.kindergarten': 'Kindergarten',
  'kind.elderly_care': 'Elderly care',
  'kind.service_center': 'Service centre',
  'kind.other': 'Other',
  token_title: 'Planner sign-in',
  token_prompt: 'Enter the planner token. It is kept in this browser tab only.',
  token_placeholder: 'Token',
  token_ok: 'Sign in',
  token_cancel: 'Cancel',
  token_bad: 'That token is not right.',
  token_unsupported: 'This service does not offer the planner endpoints yet.',
  logout: 'Leave planner mode',
  pick_community: 'Community',
  dataset: 'Dataset',
  no_datasets: 'No datasets yet',
  bounds: 'Grid size (residents)',
  micro_grids: 'Micro-grids',
  run_partition: 'Partition afresh',
  run_repartition: 'Re-partition the current version',
  running: 'Working…',
  draft: 'Draft',
  draft_grids: '{n} grids in the draft',
  validate: 'Validate',
  validated_ok: 'Valid: no defects found.',
  defects: '{n} defects',
  diff_current: 'Compare with the current version',
  publish: 'Publish',
  publish_note: 'Note (required)',
  published: 'Published as version {n}. The map shows it now.',
  versions: 'Versions',
  current: 'current',
  rollback: 'Roll back to this',
  rolled_back: 'Rolled back: version {from} republished as version {n}.',
  rollback_confirm: 'Publish version {n} again as the current version?',
  compare: 'Compare',
  compare_with: 'Compare versions',
  created: 'created',
  retired: 'retired',
  changed: 'changed',
  unchanged: 'unchanged',
  moved_buildings: 'moved buildings',
  split: 'split',
  merged: 'merged',
  report: 'Report',
  legend_plan: 'Draft grid size against the bounds',
  plan_under: 'under',
  plan_inside: 'in band',
  plan_over: 'over',
  plan_defect: 'defect',
  plan_changed: 'changed grid / building',
  clear_plan: 'Clear draft layers',
  staff_edit: 'Edit grid workers',
  staff_hint: 'Click a grid on the map to edit its grid workers.',
  staff_name: 'Name',
  staff_role: 'Role',
  staff_add: 'Add',
  staff_saved: 'Grid workers saved.',
  save: 'Save',
  remove: 'Remove',
  need_note: 'Please write a note.',
  version_n: 'version {n}',
};

const dictionaries = { zh, en };
let lang = (() => {
  try {
    const saved = localStorage.getItem('wangge.lang');
    if (saved === 'zh' || saved === 'en') return saved;
  } catch { /* storage may be off: Chinese */ }
  return 'zh';
})();
const listeners = [];

export function t(key, vars = {}) {
  const text = dictionaries[lang][key] ?? zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

export function kindName(kind) {
  return dictionaries[lang][`kind.${kind}`] ?? kind.replace(/_/g, ' ');
}

export function getLang() {
  return lang;
}

export function setLang(next) {
  lang = next;
  try { localStorage.setItem('wangge.lang', next); } catch { /* not kept */ }
  applyStatic();
  for (const f of listeners) f(lang);
}

export function onLangChange(f) {
  listeners.push(f);
}

/** Fills every `[data-i18n]` element's text and `[data-i18n-placeholder]`/`-title` attributes. */
export function applyStatic(root = document) {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('title');
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-title]')) {
    el.title = t(el.dataset.i18nTitle);
    el.setAttribute('aria-label', el.title);
  }
}

/** Distance and walking time as a resident reads them: "350 米 · 步行约 5 分钟". */
export function walking(metres) {
  // Straight-line distance; at about 75 m a minute a short walk's detours are roughly absorbed.
  const minutes = Math.max(1, Math.ceil(metres / 75));
  const d = metres < 1000
    ? t('metres', { n: Math.max(10, Math.round(metres / 10) * 10) })
    : t('km', { n: (metres / 1000).toFixed(1) });
  return t('walk', { d, m: minutes });
}

export function number(n) {
  return new Intl.NumberFormat(lang === 'zh' ? 'zh-CN' : 'en').format(n);
}
