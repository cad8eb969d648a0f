// A case's whole history in one order: the resident's, the bot's and the counsellors' messages, the
// notes and the timeline steps, each with who wrote it. The case view brings the newest page; every
// older one comes on scrolling up or with "加载更早的记录" (handoff/history.py pages it; nothing is cut).
// Both console pages call historyView(box, caseId, page, opts); opts: evidence (words to mark),
// of (an earlier case read from this one), extra(m) (a node under a message, e.g. the "漏判" control).

function historyItem(item, opts) {
  if (item.type === 'note') {
    return el('div', {class: 'msg note', 'data-note': item.id},
      el('div', {class: 'who'}, '备注 · ' + (item.author || '') + ' · ' + clock(item.at)), el('div', {class: 'text'}, item.body));
  }
  if (item.type === 'step') {
    return el('div', {class: 'step', 'data-step': item.kind}, clock(item.at) + ' ' + item.text + (item.actor ? ' · ' + item.actor : ''));
  }
  const failed = item.delivery === 'failed';
  const text = String(item.content || '');
  const resident = item.sender === 'resident';
  return el('div', {class: 'msg ' + (item.direction === 'in' || resident ? 'in' : 'out') + (item.sender === 'bot' ? ' bot' : '') + (failed ? ' failed' : ''),
                    'data-sender': item.sender},
    el('div', {class: 'who'}, label('sender', item.sender) + (item.author ? ' ' + item.author : '') + ' · ' + clock(item.at)),
    el('div', {class: 'text'}, resident ? highlight(text, opts.evidence || '') : text),
    failed ? el('div', {class: 'error'}, '未送达：' + (item.error || '发送失败')) : null,
    opts.extra ? opts.extra(item) : null);
}

function historyView(box, caseId, page, opts) {
  opts = opts || {};
  const view = {earlier: page.earlier, loading: false};
  const more = el('button', {type: 'button', class: 'ghost earlier', onclick: () => view.loadEarlier()}, '加载更早的记录');
  more.hidden = !view.earlier;
  box.replaceChildren(more, ...page.items.map(i => historyItem(i, opts)));
  view.add = (item) => { box.append(historyItem(item, opts)); box.scrollTop = box.scrollHeight; };
  view.loadEarlier = async () => {
    if (!view.earlier || view.loading) return;
    view.loading = true;
    const query = '?before=' + encodeURIComponent(view.earlier) + (opts.of ? '&of=' + opts.of : '');
    const data = await api('/console/api/cases/' + caseId + '/history' + query);
    view.loading = false;
    if (data._status !== 200) { more.textContent = (data.error || '加载失败') + '，点击重试'; return; }
    const height = box.scrollHeight, top = box.scrollTop;
    more.after(...data.items.map(i => historyItem(i, opts)));
    view.earlier = data.earlier; more.hidden = !view.earlier; more.textContent = '加载更早的记录';
    box.scrollTop = top + (box.scrollHeight - height);  // the reader stays on the line they were reading
  };
  box.onscroll = () => { if (box.scrollTop < 40) view.loadEarlier(); };
  box.scrollTop = box.scrollHeight;
  return view;
}

function satisfactionText(c) {
  return c.satisfaction ? '来访者评分 ' + c.satisfaction + '/5（' + label('satisfaction', c.satisfaction) + '）' : '来访者未评分';
}

function pastCases(cases, fromCaseId) {
  // The resident's earlier, closed cases: each with its outcome, summary, notes and the resident's
  // score in view, and its whole history opening in place (read from the case at hand, audited).
  const closed = (cases || []).filter(c => c.status === 'closed' && c.id !== fromCaseId);
  return el('div', {class: 'past-cases'}, '既往个案：', closed.length ? null : '无', ...closed.map(c => {
    const box = el('div', {class: 'msgs past-history', hidden: true});
    const toggle = el('button', {type: 'button', class: 'ghost open-past'}, '展开完整记录');
    toggle.onclick = async () => {
      if (!box.hidden) { box.hidden = true; toggle.textContent = '展开完整记录'; return; }
      const data = await api('/console/api/cases/' + fromCaseId + '/history?of=' + c.id);
      if (data._status !== 200) { toggle.textContent = (data.error || '加载失败') + '，点击重试'; return; }
      box.hidden = false; toggle.textContent = '收起';
      historyView(box, fromCaseId, data, {of: c.id, evidence: c.evidence});
    };
    return el('div', {class: 'past-case', 'data-past-case': c.id},
      el('div', {}, el('b', {}, '#' + c.id), ' ', levelBadge(c.level), ' ' + (c.outcome ? label('outcome', c.outcome) : '')
        + (c.counsellor ? ' · ' + c.counsellor : '') + (c.closed_at ? ' · ' + localDate(c.closed_at) : '')),
      el('div', {class: 'satisfaction'}, satisfactionText(c)),
      c.summary ? el('div', {class: 'muted'}, '结案小结：' + c.summary) : null,
      ...(c.notes || []).map(n => el('div', {class: 'muted'}, '备注（' + n.author + ' ' + clock(n.at) + '）：' + n.body)),
      toggle, box);
  }));
}
