// Supervisors stepping in from the live view: whisper to the counsellor, take the case over,
// reassign it; the watched case's timeline and notes follow every change as it happens.
// The supervisor page calls renderStepIn(data) after loading a case and stepInEvent(ev) per event.
function renderStepIn(data) {
  const c = data.case;
  $('watch-timeline').replaceChildren(...data.timeline.map(s => el('div', {}, clock(s.at) + ' ' + s.text + (s.actor ? ' · ' + s.actor : ''))));
  $('stepin').hidden = c.status !== 'active';
  $('stepin-error').textContent = '';
  if (c.status !== 'active') return;
  $('stepin-holder').textContent = '接待中：' + (c.counsellor || '—');
  api('/console/api/staff').then(st => $('reassign-to').replaceChildren(
    ...(st.staff || []).filter(s => s.available && s.id !== c.counsellor_id)
      .map(s => el('option', {value: s.id}, s.name + '（' + s.load + '/' + s.cap + '）'))));
}

async function stepIn(path, body) {
  $('stepin-error').textContent = '';
  const data = await api('/console/api/cases/' + watching + path, body);
  if (data.error) { $('stepin-error').textContent = data.error; return null; }
  return data;
}

function stepInEvent(ev) {
  if (ev.type === 'console_gone') {
    beep();
    $('alert').textContent = '个案 #' + ev.case_id + '（L' + ev.level + '）的咨询师 ' + ev.counsellor + ' 的值班台已断开，个案已回到队列';
    $('alert').style.display = 'block';
  }
  const changes = ['whisper', 'taken_over', 'reassigned', 'transferred', 'transfer_offered', 'transfer_returned',
                   'requeued', 'closed', 'claimed', 'raised'];
  if (watching !== null && ev.case_id === watching && changes.includes(ev.type)) watch(watching);
}

$('whisper').onclick = async () => {
  if (await stepIn('/whisper', {body: $('whisper-text').value})) { $('whisper-text').value = ''; }
};
$('take-over').onclick = async () => {
  const data = await stepIn('/takeover', {});
  if (data) location.href = '/console#case-' + data.case.id;  // the supervisor talks from the console
};
$('reassign').onclick = async () => {
  if ($('reassign-to').value) await stepIn('/reassign', {to: Number($('reassign-to').value)});
};
