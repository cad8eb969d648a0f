// The counsellor's console: the queue is the home screen, the chat one click away.
const ME = Number(document.querySelector('.console').dataset.me);
const state = {queue: null, open: null, staff: []};
const $ = (id) => document.getElementById(id);
const consoleHooks = [];  // the console's feature modules (console_close.js, console_day.js): opened(data), onEvent(ev)

async function loadQueue() {
  const data = await api('/console/api/queue');
  if (data._status !== 200) return;
  state.queue = data;
  renderQueue();
}

function caseItem(c, extra) {
  const item = el('div', {class: 'item' + (state.open && state.open.case.id === c.id ? ' on' : '') + (c.escalated ? ' escalated' : ''),
                          'data-case': c.id, onclick: () => openCase(c.id)},
    el('div', {class: 'meta'}, levelBadge(c.level), el('b', {}, '个案 #' + c.id), reasonText(c.reason),
       el('span', {class: 'wait', 'data-since': c.status === 'waiting' ? c.queued_at : c.claimed_at},
          since(c.status === 'waiting' ? c.queued_at : c.claimed_at))),
    c.escalated ? el('div', {class: 'error'}, '已超时，已通知督导') : null, extra || null);
  return item;
}

function renderQueue() {
  const q = state.queue;
  const waiting = $('waiting'), mine = $('mine');
  waiting.replaceChildren(...(q.waiting.length ? q.waiting.map(c => caseItem(c,
      el('button', {class: 'ghost', type: 'button', onclick: (e) => { e.stopPropagation(); take(c.id); }}, '接入'))) :
    [el('div', {class: 'empty'}, '暂无等待的个案')]));
  mine.replaceChildren(...(q.mine.length ? q.mine.map(c => caseItem(c, transferTag(c))) : [el('div', {class: 'empty'}, '暂无')]));
  $('load').textContent = '接待中 ' + q.mine.length + ' / ' + q.me.cap;
  consoleHooks.forEach(h => h.rendered && h.rendered());
  renderTransfers();
}

async function take(caseId) {
  $('take-error').textContent = '';
  const data = await api('/console/api/take', caseId ? {case_id: caseId} : {});
  if (data.status !== 'ok') { $('take-error').textContent = data.error || '接入失败'; loadQueue(); return; }
  await loadQueue();
  openCase(data.case.id);
}

async function openCase(caseId) {
  // Messages heard live while the case loads are kept, and shown if the loaded history lacks them.
  const heard = []; state.heard = {caseId: caseId, list: heard};
  const data = await api('/console/api/cases/' + caseId);
  if (data._status !== 200) { $('take-error').textContent = data.error || '无法打开这个个案'; return; }
  state.open = data;
  history.replaceState(null, '', '#case-' + caseId);  // a reload opens the same case again
  $('chat-empty').hidden = true; $('chat-body').hidden = false; $('side').hidden = false;
  const c = data.case;
  $('chat-title').replaceChildren(levelBadge(c.level), ' 个案 #' + c.id + ' · ' + reasonText(c.reason));
  $('chat-status').textContent = label('status', c.status) + (c.status === 'active' ? ' · ' + c.counsellor : '')
    + (c.status === 'closed' ? ' · ' + label('outcome', c.outcome) + ' · ' + satisfactionText(c) : '');
  $('chat-evidence').replaceChildren(c.evidence ? el('span', {}, '识别依据：', el('mark', {class: 'evidence'}, c.evidence)) : '');
  state.view = historyView($('msgs'), c.id, data.history, {evidence: c.evidence, extra: missedFor});
  const loaded = new Set(data.history.items.filter(i => i.type === 'message').map(m => m.sender + '|' + m.content));
  heard.filter(m => !loaded.has(m.sender + '|' + m.content)).forEach(addMessage);
  $('composer').hidden = !data.can_write; $('readonly-note').hidden = data.can_write || c.status === 'waiting';
  $('actions').hidden = !data.can_write;
  $('take-chosen-box').hidden = c.status !== 'waiting';
  $('take-chosen').onclick = () => take(c.id);
  $('sends-left').textContent = '48 小时窗口内还可发送 ' + data.sends_left + ' 条';
  renderRecord(data.record, c.id); renderTimeline(data.timeline);
  if (data.can_write) loadStaff();
  if (state.queue) renderQueue(); else renderTransfers();
  consoleHooks.forEach(h => h.opened && h.opened(data));
}

function addMessage(m) { if (state.view) state.view.add(Object.assign({type: 'message'}, m)); }
function missedFor(m) { return m.sender === 'resident' && m.id && state.open ? missedControl(m.id) : null; }

function missedControl(messageId) {
  // "The bot missed this": the counsellor's level becomes a label the city can retrain on.
  const pick = el('select', {class: 'missed', title: '机器人漏判了这条消息的风险'},
    el('option', {value: ''}, '漏判？'), ...[2, 3, 4].map(l => el('option', {value: String(l)}, '应为 L' + l + ' ' + (LEVEL_NAMES[l] || ''))));
  pick.onchange = async () => {
    if (!pick.value) return;
    const caseId = state.open.case.id;
    const r = await api('/console/api/cases/' + caseId + '/messages/' + messageId + '/missed', {level: Number(pick.value)});
    pick.replaceWith(el('span', {class: 'muted'}, r && r.detection_id ? '已标注漏判 L' + pick.value : '标注失败'));
  };
  return pick;
}

function renderRecord(r, caseId) {
  const res = r.resident;
  $('record').replaceChildren(
    el('div', {}, '语言 ' + label('language', res.language) + ' · 区域 ' + (res.area || '未知') + ' · 就近站点 ' + res.station),
    pastCases(r.cases, caseId),
    el('div', {}, '测评：' + ((r.assessments || []).map(a => a.scale + ' ' + a.results.map(x => x.total).join('→')).join('；') || '无')),
    el('div', {}, '活动报名：' + ((r.registrations || []).map(x => x.title + '（' + label('registration', x.status) + '）').join('；') || '无')),
    renderConsent(r.consent));
}
const CONSENT_KINDS = {granted: '同意保存', declined: '不同意保存', withdrawn: '撤回同意', age_band: '年龄段', paper_form: '纸质同意书'};
const AGE_BANDS = {under14: '未满14岁', '14to17': '14-17岁', adult: '18岁及以上'};
function renderConsent(c) {
  const when = iso => iso ? new Date(iso).toLocaleString('zh-CN', {hour12: false, timeZone: TIME_ZONE}) : '';
  const state = c.decision ? CONSENT_KINDS[c.decision] + '（' + c.version + ' 版说明，' + when(c.at) + '）' : '未询问';
  const steps = c.history.map(e => el('li', {}, when(e.at) + ' ' + (CONSENT_KINDS[e.kind] || e.kind)
    + (e.kind === 'age_band' ? '：' + (AGE_BANDS[e.detail] || e.detail) : e.detail ? '：' + e.detail : '')
    + ' · ' + e.version + ' 版' + (e.channel === 'paper' ? ' · 工作人员 #' + e.staff_id : '')));
  return el('div', {}, '健康信息同意：' + state + (c.age_band ? ' · ' + AGE_BANDS[c.age_band] : ''),
    steps.length ? el('details', {}, el('summary', {}, '同意记录（' + steps.length + '）'), el('ol', {}, ...steps)) : null);
}
function renderTimeline(steps) { $('timeline').replaceChildren(...steps.map(s => el('div', {}, clock(s.at) + ' ' + s.text + (s.actor ? ' · ' + s.actor : '')))); }

async function loadStaff() {
  const data = await api('/console/api/staff');
  state.staff = data.staff || [];
  $('transfer-to').replaceChildren(el('option', {value: 'supervisor'}, '值班督导'),
    ...state.staff.filter(s => s.id !== ME && s.available).map(s => el('option', {value: s.id}, s.name + '（' + ({online: '在线', away: '暂离', offline: '离线'}[s.presence] || '') + '，' + s.load + '/' + s.cap + '）')));
}

async function send() {
  const text = $('text').value.trim();
  if (!text || !state.open) return;
  $('send').disabled = true; $('send-error').textContent = '';
  const data = await api('/console/api/cases/' + state.open.case.id + '/messages', {text});
  $('send').disabled = false;
  if (data.ok) { $('text').value = ''; } else { $('send-error').textContent = '未送达：' + (data.error || '发送失败'); }
  if (data.sends_left !== undefined) $('sends-left').textContent = '48 小时窗口内还可发送 ' + data.sends_left + ' 条';
}

async function act(path, body, done) {
  $('action-error').textContent = '';
  const data = await api('/console/api/cases/' + state.open.case.id + path, body);
  if (data.error) { $('action-error').textContent = data.error; return; }
  if (done) done(data);
}

function onEvent(ev) {
  consoleHooks.forEach(h => h.onEvent && h.onEvent(ev));
  if (transferEvent(ev)) { scheduleRefresh(); return; }
  if (ev.type === 'alert') {
    beep();
    $('alert').textContent = '紧急个案 #' + ev.case_id + '（L' + ev.level + '）需要立即接入 — 点击查看';
    $('alert').style.display = 'block';
    $('alert').onclick = () => { $('alert').style.display = 'none'; openCase(ev.case_id); };
  }
  if (ev.type === 'message' || ev.type === 'sent') {
    const m = Object.assign({direction: ev.type === 'message' ? 'in' : 'out'}, ev.message);
    if (state.heard && state.heard.caseId === ev.case_id) state.heard.list.push(m);
    if (state.open && state.open.case.id === ev.case_id) addMessage(m);
  }
  if (['queued', 'claimed', 'requeued', 'closed', 'raised', 'escalated', 'fallback', 'transferred', 'callback',
       'transfer_offered', 'transfer_returned', 'taken_over', 'reassigned', 'console_gone'].includes(ev.type)) {
    scheduleRefresh();
    if (state.open && state.open.case.id === ev.case_id && ev.type !== 'queued') setTimeout(() => openCase(ev.case_id), 50);
  }
}
let refreshTimer = null;
function scheduleRefresh() { clearTimeout(refreshTimer); refreshTimer = setTimeout(loadQueue, 50); }

$('take-next').onclick = () => take(null);
$('send').onclick = send;
$('text').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) send(); });
$('add-note').onclick = () => act('/notes', {body: $('note-text').value}, (note) => { $('note-text').value = ''; state.view.add(note); });
$('transfer').onclick = () => { const v = $('transfer-to').value; act('/transfer', {to: v === 'supervisor' ? v : Number(v)}, () => loadQueue()); };
$('give-back').onclick = () => act('/requeue', {note: $('give-back-note').value}, () => { $('give-back-note').value = ''; loadQueue(); openCase(state.open.case.id); });
const live = connectLive(onEvent, $('live'));
document.querySelectorAll('input[name=presence]').forEach(r => r.onchange = () => live.setPresence(r.value));
setInterval(() => document.querySelectorAll('[data-since]').forEach(n => { n.textContent = since(n.dataset.since); }), 1000);
loadQueue();
