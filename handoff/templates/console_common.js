// Shared by the console pages: API calls with the CSRF token, the live socket, the alert sound.
const CSRF = document.querySelector('meta[name="csrf"]').content;
const BEAT_MS = Number(document.body.dataset.beat || 10) * 1000;

async function api(path, body) {
  const opts = {headers: {'Accept': 'application/json'}};
  if (body !== undefined) {
    opts.method = 'POST';
    opts.headers['Content-Type'] = 'application/json';
    opts.headers['X-CSRF-Token'] = CSRF;
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch(path, opts);
  let data = {};
  try { data = await resp.json(); } catch (e) { data = {error: '服务器没有返回有效数据 (' + resp.status + ')'}; }
  data._status = resp.status;
  return data;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// The words for stored codes, from knowledge/data/texts/labels.yaml via bot/labels.py (same lookup).
const LABELS = {{ label_table()|tojson }};
function label(group, code) {
  if (code === null || code === undefined || code === '') return '';
  const words = LABELS[group] || {};
  const key = String(code).replace(/[: ]/g, '_');
  if (key in words) return words[key];
  const [head, ...rest] = String(code).split(':');
  if (rest.length && head in words) return words[head] + ' · ' + rest.map(p => (LABELS.flag || {})[p] || p).join(' ');
  return String(code);
}
const LEVEL_NAMES = [0, 1, 2, 3, 4].map(l => label('level', l));
function levelBadge(level) { return el('span', {class: 'level level-' + level, title: LEVEL_NAMES[level] || ''}, 'L' + level); }
function reasonText(r) { return label('reason', r); }
function since(iso) {
  if (!iso) return '';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return s + ' 秒';
  if (s < 3600) return Math.floor(s / 60) + ' 分 ' + (s % 60) + ' 秒';
  return Math.floor(s / 3600) + ' 小时 ' + Math.floor((s % 3600) / 60) + ' 分';
}
const TIME_ZONE = {{ timezone_name()|tojson }};  // XZ_TIMEZONE: every time shown in the service's one local zone
function clock(iso) { return iso ? new Date(iso).toLocaleTimeString('zh-CN', {hour12: false, timeZone: TIME_ZONE}) : ''; }
function localDate(iso) { return iso ? new Date(iso).toLocaleDateString('zh-CN', {timeZone: TIME_ZONE}) : ''; }

// A short two-tone beep with WebAudio: no sound file, no CDN.
let audio = null;
function beep() {
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    [0, 0.35, 0.7].forEach((t, i) => {
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = i % 2 ? 660 : 880;
      gain.gain.setValueAtTime(0.25, audio.currentTime + t);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + t + 0.3);
      osc.connect(gain).connect(audio.destination);
      osc.start(audio.currentTime + t); osc.stop(audio.currentTime + t + 0.3);
    });
  } catch (e) { /* no audio device: the banner still shows */ }
}
document.addEventListener('click', () => { if (audio && audio.state === 'suspended') audio.resume(); });

// The live socket: reconnects, beats presence, hands every event to `onEvent`.
function connectLive(onEvent, statusNode) {
  let ws = null, presence = 'online', timer = null;
  function open() {
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    ws = new WebSocket(scheme + location.host + '/console/ws');
    ws.onopen = () => { statusNode.textContent = '实时连接正常'; statusNode.className = 'live ok'; send(); };
    ws.onmessage = (m) => { try { onEvent(JSON.parse(m.data)); } catch (e) { console.error(e); } };
    ws.onclose = () => { statusNode.textContent = '连接中断，正在重连…'; statusNode.className = 'live bad'; setTimeout(open, 1000); };
  }
  function send() { if (ws && ws.readyState === 1) ws.send(JSON.stringify({type: 'presence', status: presence})); }
  timer = setInterval(send, BEAT_MS);
  open();
  return {setPresence(status) { presence = status; send(); }};
}

function highlight(text, evidence) {
  const words = (evidence || '').split(/[、,，|]/).map(w => w.trim()).filter(w => w.length > 0);
  if (!words.length) return [text];
  const escaped = words.map(w => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const parts = text.split(new RegExp('(' + escaped.join('|') + ')', 'g'));
  return parts.map((p, i) => i % 2 ? el('mark', {class: 'evidence'}, p) : p);
}
