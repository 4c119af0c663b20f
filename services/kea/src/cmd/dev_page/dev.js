// kea dev's page: the browser phone, live parts over server-sent events, copy buttons.
// Everything the server sends as HTML is rendered (and escaped) by the server; everything this
// script writes itself goes in as text.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const live = $('live');

  // ---- Live parts: the server pushes each part again when it changes (main page only). ----
  if (live) {
    const events = new EventSource('/dev/events');
    events.addEventListener('ready', () => { live.textContent = 'Live'; live.className = 'live on'; });
    for (const part of ['tickets', 'texts', 'calls']) {
      events.addEventListener(part, (e) => { $(part).innerHTML = e.data; });
    }
    events.onerror = () => { live.textContent = 'Reconnecting…'; live.className = 'live off'; };
  }

  // ---- Copy buttons. ----
  document.addEventListener('click', async (e) => {
    const button = e.target.closest('button[data-copy]');
    if (!button) return;
    const source = $(button.dataset.copy);
    const text = 'value' in source ? source.value : source.textContent;
    try {
      await navigator.clipboard.writeText(text);
      flash(button, 'Copied');
    } catch {
      // No clipboard (an insecure origin, say): select it so Ctrl-C works.
      if (source.select) source.select();
      flash(button, 'Press Ctrl-C');
    }
  });
  function flash(button, words) {
    const before = button.firstChild.textContent;
    button.firstChild.textContent = words;
    setTimeout(() => { button.firstChild.textContent = before; }, 1500);
  }

  // ---- The phone. ----
  const dial = $('dial');
  if (!dial) return;
  const speak = $('speak');
  const say = $('say');
  const transcript = $('transcript');
  let sid = null;
  let busy = false;

  function line(who, text, cls) {
    const li = document.createElement('li');
    li.className = cls;
    const w = document.createElement('span');
    w.className = 'who';
    w.textContent = who;
    const said = document.createElement('span');
    said.className = 'says';
    said.textContent = text;
    li.append(w, ' ', said);
    transcript.append(li);
    li.scrollIntoView({ block: 'nearest' });
    return li;
  }

  function showStep(step) {
    // How many answers this call has had: lets a reader (or a test) wait for the next one.
    transcript.dataset.steps = String(Number(transcript.dataset.steps || 0) + 1);
    if (step.kea_says) {
      const li = line('kea', step.kea_says, 'kea');
      if (step.turns.length) {
        const details = document.createElement('details');
        const summary = document.createElement('summary');
        const ms = step.turns.map((t) => t.millis);
        summary.textContent = `TwiML · ${step.turns.length} webhook${step.turns.length > 1 ? 's' : ''} · ${ms.map((m) => m.toFixed(1)).join(' + ')} ms`;
        details.append(summary);
        for (const t of step.turns) {
          const p = document.createElement('p');
          p.className = 'hint';
          p.textContent = `POST ${t.url} · ${t.millis.toFixed(1)} ms`;
          const pre = document.createElement('pre');
          pre.textContent = t.twiml;
          details.append(p, pre);
        }
        li.append(details);
      }
      if ($('aloud').checked && window.speechSynthesis) {
        window.speechSynthesis.speak(new SpeechSynthesisUtterance(step.kea_says));
      }
    }
    if (step.error) line('Problem', step.error, 'error');
    if (step.ended) {
      const li = line('Call ended', `${step.ended}. `, 'end');
      const a = document.createElement('a');
      a.href = `/dev/calls/${step.call_sid}`;
      a.textContent = 'See its timeline';
      li.append(a);
      sid = null;
      speak.hidden = true;
      dial.hidden = false;
      $('call').focus();
    } else {
      sid = step.call_sid;
      speak.hidden = false;
      dial.hidden = true;
      say.focus();
    }
  }

  async function send(url, body) {
    busy = true;
    speak.setAttribute('aria-busy', 'true');
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = await res.json().catch(() => ({ error: `the server answered ${res.status}` }));
      if (!res.ok) {
        line('Problem', answer.error || `the server answered ${res.status}`, 'error');
        if (res.status === 404 || res.status === 410) showStep({ ended: 'the call is over', call_sid: sid, turns: [] });
        return;
      }
      showStep(answer);
    } catch (e) {
      line('Problem', `kea dev did not answer (${e.message}). Is it still running?`, 'error');
    } finally {
      busy = false;
      speak.removeAttribute('aria-busy');
    }
  }

  dial.addEventListener('submit', (e) => {
    e.preventDefault();
    if (busy) return;
    transcript.replaceChildren();
    transcript.dataset.steps = '0';
    const store = $('store');
    line('You', `call ${store.options[store.selectedIndex].text}`, 'you');
    send('/dev/phone', { store: store.value, from: $('from').value });
  });
  speak.addEventListener('submit', (e) => {
    e.preventDefault();
    if (busy || !sid) return;
    const text = say.value.trim();
    if (!text) { say.focus(); return; }
    line('You', text, 'you');
    say.value = '';
    send(`/dev/phone/${sid}`, { say: text });
  });
  $('silence').addEventListener('click', () => {
    if (busy || !sid) return;
    line('You', '(silence)', 'you');
    send(`/dev/phone/${sid}`, {});
  });
  $('hangup').addEventListener('click', () => {
    if (busy || !sid) return;
    send(`/dev/phone/${sid}`, { hang_up: true });
  });

  // Speaking instead of typing, where the browser recognises speech.
  const Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
  if (Recognition) {
    const mic = $('mic');
    mic.hidden = false;
    mic.addEventListener('click', () => {
      const r = new Recognition();
      r.lang = document.documentElement.lang === 'es' ? 'es-US' : 'en-US';
      r.interimResults = false;
      mic.textContent = 'Listening…';
      r.onresult = (e) => {
        say.value = e.results[0][0].transcript;
        speak.requestSubmit();
      };
      r.onend = () => { mic.textContent = 'Speak'; };
      r.onerror = (e) => line('Problem', `speech recognition: ${e.error}`, 'error');
      r.start();
    });
  }
})();
