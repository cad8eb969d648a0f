// Closing that follows up (issue 14 item 4): the close form (summary required from level 2, the
// follow-up's time, channel and owner) and the follow-up list the scheduler's check-ins land on.
const SUMMARY_FROM_LEVEL = 2;
const closing = {
  opened(data) {
    const needsSummary = data.case.level >= SUMMARY_FROM_LEVEL;
    $('summary').required = needsSummary;
    $('summary').placeholder = needsSummary ? '结案小结（L2 及以上必填）' : '结案小结';
    $('follow-up-at').value = closing.localInput(new Date(Date.now() + 2 * 86400 * 1000));
    closing.showFollowUp();
  },
  showFollowUp() { $('follow-up-row').hidden = $('outcome').value !== 'follow_up'; },
  localInput(date) {
    // datetime-local wants the service's local wall clock, "YYYY-MM-DDTHH:MM".
    const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {timeZone: TIME_ZONE, hour12: false,
      year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit'})
      .formatToParts(date).map(p => [p.type, p.value]));
    return parts.year + '-' + parts.month + '-' + parts.day + 'T' + (parts.hour === '24' ? '00' : parts.hour) + ':' + parts.minute;
  },
  submit() {
    const level = state.open.case.level, summary = $('summary').value.trim();
    if (level >= SUMMARY_FROM_LEVEL && !summary) { $('action-error').textContent = 'L' + level + ' 个案结案时必须填写结案小结'; return; }
    const rating = $('rating').value;
    const body = {outcome: $('outcome').value, risk_rating: rating === '' ? null : Number(rating), summary: summary};
    if (body.outcome === 'follow_up') {
      body.follow_up = {at: $('follow-up-at').value, channel: $('follow-up-channel').value, to: $('follow-up-to').value};
    }
    act('/close', body, () => { $('summary').value = ''; openCase(state.open.case.id); loadQueue(); closing.loadFollowUps(); });
  },
  async loadFollowUps() {
    const data = await api('/console/api/follow-ups');
    if (data._status !== 200) return;
    const list = data.follow_ups;
    $('follow-ups-card').hidden = !list.length;
    $('follow-ups').replaceChildren(...list.map(f => el('div', {class: 'item', 'data-follow-up': f.id},
      el('div', {class: 'meta'}, levelBadge(f.level), el('b', {}, '个案 #' + f.case_id),
         f.pool ? '值班池' : (f.owner || ''), el('span', {class: 'wait'}, '已问候 ' + clock(f.sent_at))),
      el('div', {class: 'muted'}, label('channel', f.channel) + (f.summary ? ' · ' + f.summary : '')),
      f.error ? el('div', {class: 'error'}, '问候未送达：' + f.error) : null,
      el('button', {class: 'ghost', type: 'button', onclick: async () => {
        const r = await api('/console/api/follow-ups/' + f.id + '/done', {});
        if (r.error) { $('take-error').textContent = r.error; }
        closing.loadFollowUps();
      }}, '已回访'))));
  },
  onEvent(ev) { if (ev.type === 'followup') closing.loadFollowUps(); },
};
$('outcome').onchange = closing.showFollowUp;
$('close').onclick = closing.submit;
consoleHooks.push(closing);
closing.loadFollowUps();
