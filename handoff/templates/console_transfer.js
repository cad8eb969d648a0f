// Transfers and supervisors on the counsellor's console: offers to answer, "transferring to X" on the
// sender's side, a notice when a transfer comes back or a supervisor steps in, whispers as they arrive.
// console_queue.js calls renderTransfers() after drawing the queue or a case, and transferEvent(ev)
// for every live event (true: the open case just left this console, so it is not reloaded).
let whispersFor = null;

function notice(text) {
  const box = $('notice');
  box.textContent = text; box.hidden = false;
  box.onclick = () => { box.hidden = true; };
}

function secondsLeft(ms) { return Math.max(0, Math.ceil((Number(ms) - Date.now()) / 1000)) + ' 秒'; }

function transferTag(c) {
  if (!c.transfer) return null;
  return el('div', {class: 'transferring'}, '转接中 → ' + c.transfer.to + '（',
    el('span', {'data-until': c.transfer.expires_ms}, secondsLeft(c.transfer.expires_ms)), '）');
}

function renderOffers(offers) {
  $('offers-card').hidden = !offers.length;
  $('offers').replaceChildren(...offers.map(c => el('div', {class: 'item offer', 'data-offer': c.id},
    el('div', {class: 'meta'}, levelBadge(c.level), el('b', {}, '个案 #' + c.id), reasonText(c.reason),
       el('span', {class: 'wait', 'data-until': c.transfer.expires_ms}, secondsLeft(c.transfer.expires_ms))),
    el('div', {}, c.transfer.from + ' 请求把个案转给' + (c.transfer.to_id === null ? '值班督导' : '你')),
    el('div', {class: 'row'},
      el('button', {type: 'button', class: 'accept', onclick: () => answerOffer(c.id, 'accept')}, '接受'),
      el('button', {type: 'button', class: 'ghost refuse', onclick: () => answerOffer(c.id, 'refuse')}, '拒绝')))));
}

async function answerOffer(caseId, answer) {
  const data = await api('/console/api/cases/' + caseId + '/transfer/' + answer, {});
  if (data.error) notice(data.error);
  await loadQueue();
  if (answer === 'accept' && !data.error) openCase(caseId);
}

function renderTransfers() {
  const q = state.queue;
  if (q) renderOffers(q.offers || []);
  const open = state.open ? state.open.case : null;
  const held = open && q ? q.mine.find(c => c.id === open.id) : null;
  $('transfer-state').hidden = !(held && held.transfer);
  if (held && held.transfer) {
    $('transfer-state').replaceChildren('正在转接给 ' + held.transfer.to + '（',
      el('span', {'data-until': held.transfer.expires_ms}, secondsLeft(held.transfer.expires_ms)),
      '），对方接受前个案仍由你负责');
  }
  if (!open || whispersFor !== open.id) { $('whispers').replaceChildren(); whispersFor = open ? open.id : null; }
  $('give-back-note').placeholder = open && open.level >= 3 ? 'L3-L4 个案放回队列必须写明原因（必填）' : '放回队列的原因（选填）';
}

function leaveCase() {
  state.open = null;
  history.replaceState(null, '', location.pathname);
  $('chat-body').hidden = true; $('side').hidden = true; $('chat-empty').hidden = false;
}

function transferEvent(ev) {
  const openId = state.open ? state.open.case.id : null;
  if (ev.type === 'transfer_returned' && ev.from_id === ME) {
    notice('转接未成功：' + (ev.why === 'transfer_refused' ? (ev.by || '对方') + ' 没有接受' : '60 秒内无人接受')
      + '。个案 #' + ev.case_id + ' 仍由你负责。');
  }
  if (ev.type === 'whisper' && ev.counsellor_id === ME) {
    if (openId === ev.case_id) {
      $('whispers').append(el('div', {class: 'whisper'}, '督导 ' + ev.note.author + ' 悄悄说：' + ev.note.body));
      state.view.add(Object.assign({type: 'note'}, ev.note));
    } else {
      notice('督导 ' + ev.note.author + ' 对个案 #' + ev.case_id + ' 说：' + ev.note.body);
    }
  }
  if (ev.type === 'console_gone') {
    notice('个案 #' + ev.case_id + '（L' + ev.level + '）的咨询师 ' + ev.counsellor + ' 的值班台已断开，个案已回到队列');
  }
  const moved = {transferred: '已被 ', taken_over: '已由督导 ', reassigned: '已由督导改派给 '};
  if (ev.type in moved && ev.from_id === ME && ev.counsellor_id !== ME) {
    notice('个案 #' + ev.case_id + ' ' + moved[ev.type] + ev.to_name + (ev.type === 'transferred' ? ' 接受转接' : ev.type === 'taken_over' ? ' 接手' : '') + '，已离开你的对话列表。');
    if (openId === ev.case_id) { leaveCase(); return true; }
  }
  if (ev.type === 'reassigned' && ev.counsellor_id === ME) notice('督导把个案 #' + ev.case_id + ' 改派给了你。');
  return false;
}

setInterval(() => document.querySelectorAll('[data-until]').forEach(n => { n.textContent = secondsLeft(n.dataset.until); }), 1000);

// A supervisor who took a case over arrives at /console#case-N, and a reload keeps it: open it at once.
if (/^#case-\d+$/.test(location.hash)) setTimeout(() => openCase(Number(location.hash.slice(6))), 0);
