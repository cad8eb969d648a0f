// What a console needs all day (issue 14 item 5): unread counts per case and in the tab title,
// browser notifications (a new level 3-4 case, a new message in one's own case), canned responses
// with `/` shortcuts and {name}-style variables (supervisors edit them here), the 48-hour allowance
// updated live when the resident writes, and call-back requests with their case and a "done" action.
const HIGH_RISK = 3;
const day = {
  unread: JSON.parse(sessionStorage.getItem('xz-unread') || '{}'),
  baseTitle: document.title,
  notified: new Set(),
  canned: [],
  vars: {},

  // -- unread counts ----------------------------------------------------------------------------
  saveUnread() {
    sessionStorage.setItem('xz-unread', JSON.stringify(day.unread));
    const total = Object.values(day.unread).reduce((a, b) => a + b, 0);
    document.title = (total ? '(' + total + ') ' : '') + day.baseTitle;
    day.rendered();
  },
  rendered() {
    document.querySelectorAll('#mine [data-case], #waiting [data-case]').forEach(item => {
      const n = day.unread[item.dataset.case] || 0;
      let badge = item.querySelector('.unread');
      if (!n) { if (badge) badge.remove(); return; }
      if (!badge) { badge = el('span', {class: 'unread', title: '未读消息'}); item.querySelector('.meta').append(badge); }
      badge.textContent = String(n);
    });
  },
  seen(caseId) { if (day.unread[caseId]) { delete day.unread[caseId]; day.saveUnread(); } },
  looking(caseId) { return !document.hidden && state.open && state.open.case.id === caseId; },

  // -- notifications ----------------------------------------------------------------------------
  showPermission() {
    $('notify-on').hidden = !('Notification' in window) || Notification.permission !== 'default';
  },
  notify(key, title, caseId, once) {
    if (!('Notification' in window) || Notification.permission !== 'granted' || (once && day.notified.has(key))) return;
    day.notified.add(key);
    // The body never carries the resident's words: a notification can show on a shared screen.
    const note = new Notification(title, {body: '点击打开值班台', tag: key});
    note.onclick = () => { window.focus(); openCase(caseId); };
  },

  // -- canned responses -------------------------------------------------------------------------
  fill(text) { return text.replace(/\{(\w+)\}/g, (all, name) => name in day.vars ? day.vars[name] : all); },
  async loadCanned() {
    const data = await api('/console/api/canned');
    if (data._status !== 200) return;
    day.canned = data.canned;
    $('canned').replaceChildren(el('option', {value: ''}, '常用回复…'),
      ...day.canned.map(c => el('option', {value: c.shortcut}, '/' + c.shortcut + ' ' + c.text.slice(0, 20) + '…')));
    if ($('canned-admin')) day.renderAdmin();
  },
  insert(shortcut) {
    const c = day.canned.find(x => x.shortcut === shortcut);
    if (!c) return;
    $('text').value = day.fill(c.text);
    $('canned-suggest').hidden = true;
    $('text').focus();
  },
  matches() {
    const typed = /^\/(\S*)$/.exec($('text').value);
    return typed ? day.canned.filter(c => c.shortcut.startsWith(typed[1].toLowerCase())) : [];
  },
  suggest() {
    const found = day.matches();
    $('canned-suggest').hidden = !found.length;
    $('canned-suggest').replaceChildren(...found.map(c => el('div', {class: 'suggestion', 'data-shortcut': c.shortcut,
      onmousedown: (e) => { e.preventDefault(); day.insert(c.shortcut); }}, el('b', {}, '/' + c.shortcut), ' ' + day.fill(c.text))));
  },
  renderAdmin() {
    const row = (c) => {
      const shortcut = el('input', {value: c.shortcut, placeholder: '快捷词', class: 'canned-shortcut', style: 'width:90px'});
      const body = el('textarea', {rows: 2, class: 'canned-body', style: 'width:100%'}, c.text);
      return el('div', {class: 'item', 'data-canned': c.shortcut}, shortcut, body, el('div', {class: 'row'},
        el('button', {type: 'button', class: 'ghost', onclick: () => day.saveCanned(shortcut.value, body.value)}, '保存'),
        c.shortcut ? el('button', {type: 'button', class: 'ghost', onclick: () => day.removeCanned(c.shortcut)}, '删除') : null));
    };
    $('canned-list').replaceChildren(...day.canned.map(row), row({shortcut: '', text: ''}));
  },
  async saveCanned(shortcut, text) {
    const data = await api('/console/api/canned', {shortcut: shortcut.trim(), text});
    $('canned-error').textContent = data.error || '';
    if (!data.error) day.loadCanned();
  },
  async removeCanned(shortcut) {
    const data = await api('/console/api/canned/' + encodeURIComponent(shortcut) + '/delete', {});
    $('canned-error').textContent = data.error || '';
    if (!data.error) day.loadCanned();
  },

  // -- the 48-hour allowance and the variables of the open case ---------------------------------
  async loadComposer(caseId) {
    const data = await api('/console/api/cases/' + caseId + '/composer');
    if (data._status !== 200 || !state.open || state.open.case.id !== caseId) return;
    day.vars = data.variables;
    $('sends-left').textContent = '48 小时窗口内还可发送 ' + data.sends_left + ' 条';
  },

  // -- call-back requests -----------------------------------------------------------------------
  async loadCallbacks() {
    const data = await api('/console/api/callbacks');
    if (data._status !== 200) return;
    $('callbacks-card').hidden = !data.callbacks.length;
    $('callbacks').replaceChildren(...data.callbacks.map(cb => el('div', {class: 'item', 'data-callback': cb.id},
      el('div', {class: 'meta'}, cb.level === null ? null : levelBadge(cb.level), '📞 ' + cb.phone,
         el('span', {class: 'wait'}, since(cb.at) + '前')),
      el('div', {class: 'muted'}, '来访者 #' + cb.resident_id + (cb.case_id ? ' · 个案 #' + cb.case_id + ' ' + label('status', cb.case_status) : '')),
      el('button', {class: 'ghost', type: 'button', onclick: async () => {
        await api('/console/api/callbacks/' + cb.id + '/done', {}); day.loadCallbacks(); }}, '已回电'))));
  },

  // -- hooks --------------------------------------------------------------------------------------
  opened(data) { day.seen(data.case.id); day.vars = {}; day.loadComposer(data.case.id); },
  onEvent(ev) {
    const high = ev.level >= HIGH_RISK;
    if ((ev.type === 'queued' || ev.type === 'raised' || ev.type === 'alert') && high) {
      day.notify('risk-' + ev.case_id, '新的高风险个案 #' + ev.case_id + '（L' + ev.level + ' ' + (LEVEL_NAMES[ev.level] || '') + '）', ev.case_id, true);
    }
    if (ev.type === 'message' && ev.message && ev.message.sender === 'resident') {
      const mine = ev.counsellor_id === ME;
      if (state.open && state.open.case.id === ev.case_id) day.loadComposer(ev.case_id);
      if ((mine || ev.status === 'waiting') && !day.looking(ev.case_id)) {
        day.unread[ev.case_id] = (day.unread[ev.case_id] || 0) + 1;
        day.saveUnread();
      }
      if (mine && !day.looking(ev.case_id)) {
        day.notify('msg-' + ev.case_id, '个案 #' + ev.case_id + ' 有新消息', ev.case_id, false);
      }
    }
    if (ev.type === 'closed') { delete day.unread[ev.case_id]; day.saveUnread(); }
    if (ev.type === 'callback') day.loadCallbacks();
  },
};
$('notify-on').onclick = async () => { await Notification.requestPermission(); day.showPermission(); };
$('canned').onchange = () => { if ($('canned').value) { day.insert($('canned').value); $('canned').value = ''; } };
$('text').addEventListener('input', day.suggest);
$('text').addEventListener('keydown', (e) => {
  const found = day.matches();
  if ((e.key === 'Tab' || e.key === 'Enter') && !e.ctrlKey && !e.metaKey && found.length) {
    e.preventDefault(); day.insert(found[0].shortcut);
  }
});
$('text').addEventListener('blur', () => { $('canned-suggest').hidden = true; });
document.addEventListener('visibilitychange', () => { if (!document.hidden && state.open) day.seen(state.open.case.id); });
consoleHooks.push(day);
day.showPermission();
day.saveUnread();
day.loadCanned();
day.loadCallbacks();
