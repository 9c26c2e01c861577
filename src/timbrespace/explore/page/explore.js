/* timbrespace explore: the page of `timbrespace explore RUN`.
 *
 * Plain JavaScript, no build step, no request off the machine. It talks to the HTTP API
 * (api/info, api/items, api/decode, api/item, api/path, api/encode) or, in a page written by
 * `--static`, to the data embedded in it. Sound through Web Audio. The last clip played is
 * described in `window.lastClip` (duration_s, rms, source, z, count) for scripts and tests,
 * `window.explorer.itemPosition(i)` says where item i is drawn, `window.explorer.busy()`
 * whether a decode is under way and `window.explorer.playing()` whether a clip sounds.
 * A clip whose decoded features lay outside the stored range (`clipped_fraction` > 5 %)
 * shows a warning; the pad draws the items' extent, ticks, and takes the arrow keys.
 * A run that can encode (`info.can_encode`) takes a dropped or chosen WAV file: its
 * latents are marked on the pad (`window.explorer.mine()`), its original and
 * reconstruction play, and "timbre transfer" mixes its latents with an item's.
 */
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const embedded = document.getElementById("timbrespace-static");
  const STATIC = embedded ? JSON.parse(embedded.textContent) : null;
  const PICK_PX = 7;
  const MARGIN = 44;  // room for the axis names and the tick values
  const KEY_STEPS = 50;  // an arrow key moves a slider, or the pad's point, by 1/50 of the range

  const state = {
    info: null, items: null, z: null, planes: [], plane: null, colour: null, options: {},
    itemXY: [], range: null, a: 0, b: 0, path: null, pathMethod: null,
    dragging: false, inflight: false, queued: null, token: 0,
    ctx: null, source: null, clip: null, clipStart: 0, wavUrl: null, step: -1, mine: null,
  };
  window.lastClip = null;
  window.clipCount = 0;

  // ------------------------------------------------------------------ data access
  async function request(url, body) {
    const init = body === undefined ? {} : {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
    };
    return checked(await fetch(url, init));
  }

  async function checked(res) {
    if (!res.ok) {
      let message = res.status + " " + res.statusText;
      try { message = (await res.json()).error || message; } catch (e) { /* not JSON */ }
      throw new Error(message);
    }
    return res;
  }

  const httpApi = {
    info: async () => (await request("api/info")).json(),
    items: async () => (await request("api/items")).json(),
    decode: async (z, options) => (await request("api/decode?format=json", {z: Array.from(z), ...options})).json(),
    item: async (index, which, options) => (await request("api/item?format=json", {index, which, ...options})).json(),
    path: async (a, b, steps, options) => (await request("api/path", {a, b, steps, ...options})).json(),
    midi: async (z, options) => (await request("api/decode?format=mid", {z: Array.from(z), ...options})).blob(),
    encode: async (file) => (await checked(await fetch("api/encode", {
      method: "POST", headers: {"Content-Type": "audio/wav"}, body: file,
    }))).json(),
  };

  const staticApi = {
    info: async () => STATIC.info,
    items: async () => STATIC.items,
    decode: async (z) => nearestGridClip(z),
    item: async () => { throw new Error("a static page holds no item audio: run `timbrespace explore RUN` for it"); },
    path: async () => { throw new Error("paths need the server (`timbrespace explore RUN`)"); },
    midi: async () => { throw new Error("MIDI needs the server (`timbrespace explore RUN`)"); },
    encode: async () => { throw new Error("encoding a sound needs the server (`timbrespace explore RUN`)"); },
  };
  const api = STATIC ? staticApi : httpApi;

  function nearestGridClip(z) {
    const g = STATIC.grid;
    const [u, v] = project(z, g.plane);
    const nearest = (values, x) => values.reduce((best, val, k) => (Math.abs(val - x) < Math.abs(values[best] - x) ? k : best), 0);
    const iu = nearest(g.us, u), iv = nearest(g.vs, v);
    return g.clips[iv * g.us.length + iu];
  }

  // ------------------------------------------------------------------ planes
  function project(z, plane) {
    if (plane.type === "pair") return [z[plane.x], z[plane.y]];
    const pca = state.info.pca;
    let u = 0, v = 0;
    for (let k = 0; k < z.length; k++) {
      const d = z[k] - pca.mean[k];
      u += d * pca.components[0][k];
      v += d * pca.components[1][k];
    }
    return [u / pca.std[0], v / pca.std[1]];
  }

  function unproject(u, v) {
    const p = state.plane;
    const z = Float64Array.from(state.z);
    if (p.type === "pair") {
      z[p.x] = u;
      z[p.y] = v;
      return z;
    }
    const pca = state.info.pca;
    for (let k = 0; k < z.length; k++) {
      z[k] = pca.mean[k] + u * pca.std[0] * pca.components[0][k] + v * pca.std[1] * pca.components[1][k];
    }
    return z;
  }

  function latentLabel(j) {
    const lat = state.info.latents.find((l) => l.index === j);
    return lat ? `z${j} (${lat.best_factor})` : `z${j}`;
  }

  function buildPlanes() {
    const info = state.info;
    if (STATIC) {
      const p = STATIC.grid.plane;
      return [{...p, key: "static", label: p.type === "pca" ? "PCA plane" : `${latentLabel(p.x)} × ${latentLabel(p.y)}`}];
    }
    const [dx, dy] = info.default_plane;
    const list = [{key: `pair:${dx}:${dy}`, type: "pair", x: dx, y: dy,
      label: `${latentLabel(dx)} × ${latentLabel(dy)} (default)`}];
    const active = info.latents.map((l) => l.index);
    for (let i = 0; i < active.length; i++) {
      for (let j = i + 1; j < active.length; j++) {
        const [x, y] = [active[i], active[j]];
        if ((x === dx && y === dy) || (x === dy && y === dx)) continue;
        list.push({key: `pair:${x}:${y}`, type: "pair", x, y, label: `${latentLabel(x)} × ${latentLabel(y)}`});
      }
    }
    list.push({key: "pca", type: "pca", label: "PCA plane (the items' two main directions)"});
    return list;
  }

  function setPlane(key) {
    state.plane = state.planes.find((p) => p.key === key) || state.planes[0];
    const mu = state.items.latents;
    state.itemXY = mu.map((z) => project(z, state.plane));
    let us = state.itemXY.map((p) => p[0]), vs = state.itemXY.map((p) => p[1]);
    if (STATIC) { us = us.concat(STATIC.grid.us); vs = vs.concat(STATIC.grid.vs); }
    if (state.mine) {  // your sound may lie off the items: the pad shows it
      const [mu, mv] = project(state.mine.z, state.plane);
      us = us.concat([mu]);
      vs = vs.concat([mv]);
    }
    const span = (xs) => {
      let lo = Math.min(...xs), hi = Math.max(...xs);
      if (!(hi > lo)) { lo -= 1; hi += 1; }
      const pad = 0.12 * (hi - lo);
      return [lo - pad, hi + pad];
    };
    state.range = {u: span(us), v: span(vs)};
    draw();
  }

  // ------------------------------------------------------------------ canvas geometry
  function toCanvas(u, v) {
    const c = $("pad");
    const {u: [u0, u1], v: [v0, v1]} = state.range;
    return [MARGIN + ((u - u0) / (u1 - u0)) * (c.width - 2 * MARGIN),
      c.height - MARGIN - ((v - v0) / (v1 - v0)) * (c.height - 2 * MARGIN)];
  }

  function fromCanvas(x, y) {
    const c = $("pad");
    const {u: [u0, u1], v: [v0, v1]} = state.range;
    return [u0 + ((x - MARGIN) / (c.width - 2 * MARGIN)) * (u1 - u0),
      v0 + ((c.height - MARGIN - y) / (c.height - 2 * MARGIN)) * (v1 - v0)];
  }

  function eventXY(ev) {
    const c = $("pad"), r = c.getBoundingClientRect();
    return [((ev.clientX - r.left) * c.width) / r.width, ((ev.clientY - r.top) * c.height) / r.height];
  }

  function nearestItem(x, y) {
    let best = null, bestD = PICK_PX * PICK_PX;
    state.itemXY.forEach(([u, v], i) => {
      const [px, py] = toCanvas(u, v);
      const d = (px - x) ** 2 + (py - y) ** 2;
      if (d <= bestD) { best = i; bestD = d; }
    });
    return best;
  }

  // ------------------------------------------------------------------ colours
  function ramp(t) {
    const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
    const x = Math.min(Math.max(t, 0), 1) * (stops.length - 1), k = Math.min(Math.floor(x), stops.length - 2), f = x - k;
    const c = stops[k].map((a, i) => Math.round(a + f * (stops[k + 1][i] - a)));
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  }

  function colourScale(values) {
    const numeric = values.every((v) => v === null || typeof v === "number");
    if (numeric) {
      const finite = values.filter((v) => v !== null);
      const lo = Math.min(...finite), hi = Math.max(...finite);
      const log = lo > 0 && hi / lo > 8;
      const tr = (v) => (log ? Math.log(v) : v);
      const f = (v) => (v === null ? "#9a9a9a" : ramp((tr(v) - tr(lo)) / (tr(hi) - tr(lo) || 1)));
      return {f, legend: `<span>${fmt(lo)}</span><span class="ramp" style="background:linear-gradient(90deg,${
        [0, 0.25, 0.5, 0.75, 1].map(ramp).join(",")})"></span><span>${fmt(hi)}${log ? " (log)" : ""}</span>`};
    }
    const cats = [...new Set(values.map(String))];
    const colour = (k) => `hsl(${(k * 137.508) % 360} 62% 46%)`;
    const shown = cats.slice(0, 16).map((c, k) => `<span><span class="swatch" style="background:${colour(k)}"></span>${escape(c)}</span>`);
    if (cats.length > 16) shown.push(`<span>… ${cats.length - 16} more</span>`);
    return {f: (v) => colour(cats.indexOf(String(v))), legend: shown.join("")};
  }

  function setColour(name) {
    state.colour = name;
    const scale = colourScale(state.items.factors[name]);
    state.itemColours = state.items.factors[name].map(scale.f);
    $("legend").innerHTML = `<span>${escape(name)}:</span>${scale.legend}`;
    draw();
  }

  const fmt = (x) => (Math.abs(x) >= 100 || x === Math.round(x) ? String(Math.round(x * 100) / 100) : x.toPrecision(3));
  const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;"}[c]));

  // ------------------------------------------------------------------ drawing
  function draw() {
    if (!state.range) return;
    const c = $("pad"), g = c.getContext("2d");
    g.clearRect(0, 0, c.width, c.height);
    g.strokeStyle = "#e7e4dd";
    g.lineWidth = 1;
    const [zx, zy] = toCanvas(0, 0);
    g.beginPath();
    if (zx > MARGIN && zx < c.width - MARGIN) { g.moveTo(zx, MARGIN); g.lineTo(zx, c.height - MARGIN); }
    if (zy > MARGIN && zy < c.height - MARGIN) { g.moveTo(MARGIN, zy); g.lineTo(c.width - MARGIN, zy); }
    g.stroke();
    g.strokeRect(MARGIN, MARGIN, c.width - 2 * MARGIN, c.height - 2 * MARGIN);
    g.fillStyle = "#6b6b70";
    g.font = "12px system-ui, sans-serif";
    const p = state.plane;
    g.fillText(p.type === "pair" ? latentLabel(p.x) : "PC 1 (std units)", MARGIN, c.height - 10);
    g.save();
    g.translate(11, c.height - MARGIN);
    g.rotate(-Math.PI / 2);
    g.fillText(p.type === "pair" ? latentLabel(p.y) : "PC 2 (std units)", 0, 0);
    g.restore();
    drawTicks(g, c);
    drawExtent(g);
    if (STATIC) {
      g.fillStyle = "#cfcac0";
      for (const v of STATIC.grid.vs) for (const u of STATIC.grid.us) {
        const [x, y] = toCanvas(u, v);
        g.fillRect(x - 1.5, y - 1.5, 3, 3);
      }
    }
    state.itemXY.forEach(([u, v], i) => {
      const [x, y] = toCanvas(u, v);
      g.fillStyle = state.itemColours ? state.itemColours[i] : "#555";
      g.beginPath();
      g.arc(x, y, 3.6, 0, 2 * Math.PI);
      g.fill();
    });
    if (state.path) {
      for (const [method, colour] of [["lerp", "#2563eb"], ["slerp", "#16a34a"]]) {
        const pts = state.path[method].z.map((z) => toCanvas(...project(z, p)));
        g.strokeStyle = colour;
        g.lineWidth = state.pathMethod === method ? 2.5 : 1.2;
        g.beginPath();
        pts.forEach(([x, y], k) => (k ? g.lineTo(x, y) : g.moveTo(x, y)));
        g.stroke();
        pts.forEach(([x, y], k) => {
          g.fillStyle = colour;
          const r = state.pathMethod === method && k === state.step ? 6 : 3;
          g.beginPath();
          g.arc(x, y, r, 0, 2 * Math.PI);
          g.fill();
        });
      }
    }
    for (const [which, index] of [["A", state.a], ["B", state.b]]) {
      if (index === null || !state.itemXY[index]) continue;
      const [x, y] = toCanvas(...state.itemXY[index]);
      g.strokeStyle = "#1d1d1f";
      g.lineWidth = 1.5;
      g.beginPath();
      g.arc(x, y, 7, 0, 2 * Math.PI);
      g.stroke();
      g.fillStyle = "#1d1d1f";
      g.fillText(which, x + 8, y - 8);
    }
    if (state.mine) drawMine(g, p);
    const [cx, cy] = toCanvas(...project(state.z, p));
    g.strokeStyle = "#c2410c";
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(cx - 9, cy); g.lineTo(cx + 9, cy);
    g.moveTo(cx, cy - 9); g.lineTo(cx, cy + 9);
    g.stroke();
  }

  // Your sound: a violet diamond, labelled.
  function drawMine(g, p) {
    const [x, y] = toCanvas(...project(state.mine.z, p));
    g.save();
    g.fillStyle = "#7c3aed";
    g.strokeStyle = "#fff";
    g.lineWidth = 1.5;
    g.beginPath();
    g.moveTo(x, y - 8); g.lineTo(x + 8, y); g.lineTo(x, y + 8); g.lineTo(x - 8, y); g.closePath();
    g.fill();
    g.stroke();
    g.font = "600 12px system-ui, sans-serif";
    g.fillText("mine", x + 10, y + 4);
    g.restore();
  }

  // "Nice" tick values (1, 2 or 5 times a power of ten) covering [lo, hi].
  function ticks(lo, hi, count) {
    const raw = (hi - lo) / count, mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
    const out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step) out.push(Math.abs(t) < 1e-12 ? 0 : t);
    return {values: out, digits: Math.max(0, -Math.floor(Math.log10(step)))};
  }

  function drawTicks(g, c) {
    const {u: [u0, u1], v: [v0, v1]} = state.range;
    g.save();
    g.strokeStyle = "#9a9890";
    g.fillStyle = "#6b6b70";
    g.font = "10px system-ui, sans-serif";
    g.lineWidth = 1;
    const tu = ticks(u0, u1, 6), tv = ticks(v0, v1, 6);
    g.textAlign = "center";
    g.textBaseline = "top";
    for (const u of tu.values) {
      const [x] = toCanvas(u, v0);
      g.beginPath(); g.moveTo(x, c.height - MARGIN); g.lineTo(x, c.height - MARGIN + 4); g.stroke();
      g.fillText(u.toFixed(tu.digits), x, c.height - MARGIN + 5);
    }
    g.textAlign = "right";
    g.textBaseline = "middle";
    for (const v of tv.values) {
      const [, y] = toCanvas(u0, v);
      g.beginPath(); g.moveTo(MARGIN - 4, y); g.lineTo(MARGIN, y); g.stroke();
      g.fillText(v.toFixed(tv.digits), MARGIN - 5, y);
    }
    g.restore();
  }

  // The items' extent on this plane: beyond it the decoder is off what it learnt.
  function drawExtent(g) {
    if (!state.itemXY.length) return;
    const us = state.itemXY.map((q) => q[0]), vs = state.itemXY.map((q) => q[1]);
    const [x0, y0] = toCanvas(Math.min(...us), Math.max(...vs)), [x1, y1] = toCanvas(Math.max(...us), Math.min(...vs));
    g.save();
    g.strokeStyle = "#8c8a85";
    g.setLineDash([4, 4]);
    g.strokeRect(x0 - 4, y0 - 4, x1 - x0 + 8, y1 - y0 + 8);
    g.setLineDash([]);
    g.fillStyle = "#8c8a85";
    g.font = "10px system-ui, sans-serif";
    g.fillText("items' extent", x0 - 4, y0 - 7);
    g.restore();
  }

  function drawWave() {
    const c = $("wave"), g = c.getContext("2d");
    g.clearRect(0, 0, c.width, c.height);
    const clip = state.clip;
    if (!clip) return;
    const data = clip.buffer.getChannelData(0), n = data.length, w = c.width, h = c.height;
    let peak = 1e-9;
    for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(data[i]));
    g.fillStyle = "#8c8a85";
    for (let x = 0; x < w; x++) {
      let lo = 0, hi = 0;
      for (let i = Math.floor((x * n) / w); i < Math.floor(((x + 1) * n) / w); i++) {
        lo = Math.min(lo, data[i]);
        hi = Math.max(hi, data[i]);
      }
      g.fillRect(x, h / 2 - (hi / peak) * (h / 2 - 2), 1, Math.max(1, ((hi - lo) / peak) * (h / 2 - 2)));
    }
    g.strokeStyle = "#2563eb";
    for (const s of clip.step_starts_s || []) {
      const x = (s / clip.buffer.duration) * w;
      g.beginPath(); g.moveTo(x, 0); g.lineTo(x, h); g.stroke();
    }
    if (state.source) {
      const t = (state.ctx.currentTime - state.clipStart) % clip.buffer.duration;
      g.strokeStyle = "#c2410c";
      g.beginPath(); g.moveTo((t / clip.buffer.duration) * w, 0); g.lineTo((t / clip.buffer.duration) * w, h); g.stroke();
    }
  }

  function showPattern(clip, bar) {
    const box = $("grid");
    if (!clip || !clip.pattern) { box.innerHTML = ""; return; }
    const info = state.info, nVoices = info.voices.length, nSteps = info.n_steps;
    const rows = clip.pattern.slice(bar * nSteps, (bar + 1) * nSteps);
    if (!rows.length) return;
    const beat = Math.round(info.steps_per_quarter);
    let html = "<table>";
    for (let v = nVoices - 1; v >= 0; v--) {
      html += `<tr><th>${escape(info.voices[v])}</th>`;
      for (let s = 0; s < nSteps; s++) {
        const vel = rows[s][v];
        html += `<td data-step="${s}" class="${s % beat === 0 ? "beat" : ""}" style="background:${vel > 0 ? `rgba(194,65,12,${0.25 + 0.75 * vel})` : "#fff"}"></td>`;
      }
      html += "</tr>";
    }
    box.innerHTML = html + "</table>";
    box.dataset.bar = String(bar);
  }

  // ------------------------------------------------------------------ audio
  function audio() {
    if (!state.ctx) state.ctx = new (window.AudioContext || window.webkitAudioContext)();
    if (state.ctx.state === "suspended") state.ctx.resume();
    return state.ctx;
  }

  function stop() {
    if (state.source) {
      state.source.onended = null;
      try { state.source.stop(); } catch (e) { /* already stopped */ }
      state.source = null;
    }
  }

  function bytesOf(b64) {
    const s = atob(b64), bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
    return bytes;
  }

  // Decode and start a clip; resolves once it is playing, with a promise of its end.
  async function play(clip, meta) {
    const ctx = audio();
    const bytes = bytesOf(clip.wav_base64);
    const buffer = await ctx.decodeAudioData(bytes.buffer.slice(0));
    stop();
    const src = ctx.createBufferSource();
    src.buffer = buffer;
    src.loop = $("loop").checked;
    src.connect(ctx.destination);
    const ended = new Promise((resolve) => {
      src.onended = () => {
        if (state.source === src) { state.source = null; drawWave(); }  // the play head stops with the sound
        resolve();
      };
    });
    src.start();
    state.source = src;
    state.clipStart = ctx.currentTime;
    state.clip = {...clip, buffer, meta};
    const data = buffer.getChannelData(0);
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum += data[i] * data[i];
    window.clipCount += 1;
    window.lastClip = {duration_s: buffer.duration, rms: Math.sqrt(sum / Math.max(1, data.length)),
      sample_rate: clip.sample_rate, source: meta.source, z: meta.z ? Array.from(meta.z) : null,
      latency_ms: meta.latency_ms, count: window.clipCount, clipped_fraction: clip.clipped_fraction || 0};
    showClipWarning(meta.source === "original" ? 0 : window.lastClip.clipped_fraction);
    if (state.wavUrl) URL.revokeObjectURL(state.wavUrl);
    state.wavUrl = URL.createObjectURL(new Blob([bytes], {type: "audio/wav"}));
    const link = $("download-wav");
    link.href = state.wavUrl;
    link.download = `timbrespace-${meta.source}.wav`;
    link.classList.remove("disabled");
    $("download-mid").classList.toggle("disabled", !clip.pattern || meta.source === "path");
    showPattern(clip, 0);
    drawWave();
    status(`${meta.label || meta.source}: ${buffer.duration.toFixed(2)} s, RMS ${window.lastClip.rms.toFixed(4)}` +
      (meta.latency_ms !== undefined ? `, decoded in ${Math.round(meta.latency_ms)} ms` : ""));
    return ended;
  }

  // Above this fraction of decoded feature values outside the stored range, the page warns.
  const CLIP_WARN = 0.05;

  function showClipWarning(fraction) {
    const el = $("clip-warning");
    el.hidden = !(fraction > CLIP_WARN);
    // a run played by its audio decoder reports latents outside the items' extent, not features
    const what = state.info && state.info.decoder === "audio" ?
      `${Math.round(100 * fraction)} % of this point's latents lie outside the items' extent, where the ` +
      "audio decoder was never trained" :
      `${Math.round(100 * fraction)} % of this sound's decoded features lay ` +
      "outside the range the model was trained on and were squeezed into it";
    el.textContent = el.hidden ? "" : what + ": the model does not know this " +
      "point (the dashed box shows where the items lie), so what you hear says little about it.";
  }

  function status(text, error) {
    const el = $("status");
    el.textContent = text;
    el.style.color = error ? "#b91c1c" : "";
  }

  // Decode the current z; while a request is in flight only the latest position is kept.
  function requestDecode(source) {
    state.queued = source;
    if (!state.inflight) pump();
  }

  async function pump() {
    state.inflight = true;
    while (state.queued !== null) {
      const source = state.queued;
      state.queued = null;
      const z = Float64Array.from(state.z);
      const token = ++state.token;
      const t0 = performance.now();
      try {
        const clip = await api.decode(z, state.options);
        if (token === state.token) await play(clip, {source, z, latency_ms: performance.now() - t0});
      } catch (e) {
        status(e.message, true);
      }
    }
    state.inflight = false;
  }

  async function playItem(index) {
    const token = ++state.token;
    const id = state.items.ids[index];
    try {
      for (const which of ["original", "reconstruction"]) {
        const t0 = performance.now();
        const clip = await api.item(index, which, state.options);
        if (token !== state.token) return;
        const ended = await play(clip, {source: which, z: state.items.latents[index], label: `${id} ${which}`,
          latency_ms: performance.now() - t0});
        if (which === "original" && !$("loop").checked) await ended;
        if (token !== state.token) return;
      }
    } catch (e) {
      status(e.message, true);
    }
  }

  async function playPath(method) {
    const token = ++state.token;
    const steps = Number($("steps").value);
    try {
      const t0 = performance.now();
      const path = await api.path(state.a, state.b, steps, state.options);
      if (token !== state.token) return;
      state.path = path;
      state.pathMethod = method;
      draw();
      await play(path[method].clip, {source: "path", z: path[method].z[0],
        label: `${method === "lerp" ? "linear" : "spherical"} path A→B, ${steps} steps`, latency_ms: performance.now() - t0});
    } catch (e) {
      status(e.message, true);
    }
  }

  // Follow playback: the step of a path, the bar of a groove, the play head.
  function animate() {
    const clip = state.clip;
    if (clip && state.source) {
      const t = (state.ctx.currentTime - state.clipStart) % clip.buffer.duration;
      const starts = clip.step_starts_s || [];
      let step = -1;
      for (let k = 0; k < starts.length; k++) if (starts[k] <= t) step = k;
      if (step !== state.step) {
        state.step = step;
        if (clip.pattern && step >= 0) showPattern(clip, step);
        draw();
      }
      if (clip.pattern && state.info.n_steps) {
        const barS = (state.info.n_steps / state.info.steps_per_quarter) * (60 / (state.options.bpm || 120));
        const now = Math.floor(((t % barS) / barS) * state.info.n_steps);
        document.querySelectorAll("#grid td").forEach((td) => td.classList.toggle("now", Number(td.dataset.step) === now));
      }
      drawWave();
    }
    requestAnimationFrame(animate);
  }

  // ------------------------------------------------------------------ controls
  function buildSliders() {
    const box = $("sliders");
    box.innerHTML = "";
    if (STATIC) {
      box.innerHTML = "<p class=\"static-note\">A static page plays a precomputed grid on one plane: click the pad. " +
        "Sliders, A→B paths, item audio and MIDI need the server (<code>timbrespace explore RUN</code>).</p>";
      return;
    }
    for (const lat of state.info.latents) {
      const j = lat.index, [lo, hi] = lat.range;
      const row = document.createElement("div");
      row.className = "slider";
      row.innerHTML = `<label for="slider-${j}">z${j} · ${escape(lat.best_factor)} · MIG ${lat.mig.toFixed(2)}</label>` +
        `<input id="slider-${j}" type="range" min="${lo}" max="${hi}" step="${(hi - lo) / 400}" value="${state.z[j]}">` +
        `<span class="value" id="slider-${j}-value">${state.z[j].toFixed(2)}</span>`;
      box.appendChild(row);
      const input = row.querySelector("input");
      input.addEventListener("keydown", (ev) => {
        // arrow keys move by 1/50 of the range (the step, 1/400, is for dragging), page keys by 1/10
        const steps = {ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 5, PageDown: -5}[ev.key];
        if (steps === undefined) return;
        ev.preventDefault();
        input.value = String(Math.min(hi, Math.max(lo, Number(input.value) + (steps * (hi - lo)) / KEY_STEPS)));
        input.dispatchEvent(new Event("input", {bubbles: true}));
      });
      input.addEventListener("input", (ev) => {
        audio();
        state.z[j] = Number(ev.target.value);
        $(`slider-${j}-value`).textContent = state.z[j].toFixed(2);
        draw();
        requestDecode("slider");
      });
    }
  }

  function syncSliders() {
    for (const lat of state.info.latents) {
      const input = $(`slider-${lat.index}`);
      if (!input) continue;
      input.value = state.z[lat.index];
      $(`slider-${lat.index}-value`).textContent = state.z[lat.index].toFixed(2);
    }
  }

  function buildOptions() {
    const box = $("options");
    box.innerHTML = "";
    for (const opt of state.info.options) {
      state.options[opt.name] = opt.default;
      if (STATIC) continue;
      const row = document.createElement("div");
      row.className = "option";
      if (opt.values) {
        row.innerHTML = `<label for="option-${opt.name}">${escape(opt.label)}</label><select id="option-${opt.name}">` +
          opt.values.map((v, k) => `<option value="${k}"${v === opt.default ? " selected" : ""}>${escape(opt.labels[k])}</option>`).join("") +
          "</select><span></span>";
        row.querySelector("select").addEventListener("change", (ev) => {
          state.options[opt.name] = opt.values[Number(ev.target.value)];
          requestDecode("option");
        });
      } else {
        row.innerHTML = `<label for="option-${opt.name}">${escape(opt.label)}</label>` +
          `<input id="option-${opt.name}" type="range" min="${opt.min}" max="${opt.max}" step="${opt.step}" value="${opt.default}">` +
          `<span class="value">${opt.default}${escape(opt.unit)}</span>`;
        row.querySelector("input").addEventListener("change", (ev) => {
          state.options[opt.name] = Number(ev.target.value);
          row.querySelector(".value").textContent = `${ev.target.value}${opt.unit}`;
          requestDecode("option");
        });
      }
      box.appendChild(row);
    }
  }

  // Set a numeric option (e.g. the tuning an encoded recording measured) and its slider.
  function setOption(name, value) {
    const opt = state.info.options.find((o) => o.name === name);
    if (!opt) return;
    state.options[name] = value;
    const input = $(`option-${name}`);
    if (!input) return;
    input.value = value;
    input.parentElement.querySelector(".value").textContent = `${Number(value.toPrecision(4))}${opt.unit}`;
  }

  function buildItemPickers() {
    if (STATIC) {
      $("ab").hidden = true;
      document.querySelectorAll("#path-legend .path").forEach((el) => { el.hidden = true; });
      return;
    }
    const n = state.items.ids.length;
    const html = state.items.ids.map((id, i) => `<option value="${i}">${escape(id)}</option>`).join("");
    $("item-a").innerHTML = html;
    $("item-b").innerHTML = html;
    state.a = 0;
    state.b = n - 1;
    $("item-a").value = "0";
    $("item-b").value = String(n - 1);
    $("item-a").addEventListener("change", (ev) => { state.a = Number(ev.target.value); state.path = null; draw(); });
    $("item-b").addEventListener("change", (ev) => { state.b = Number(ev.target.value); state.path = null; draw(); });
    $("play-lerp").addEventListener("click", () => { audio(); playPath("lerp"); });
    $("play-slerp").addEventListener("click", () => { audio(); playPath("slerp"); });
  }

  function setEnd(which, index) {
    state[which] = index;
    $(`item-${which}`).value = String(index);
    state.path = null;
    draw();
    status(`${which.toUpperCase()} = ${state.items.ids[index]}`);
  }

  function describeItem(i) {
    const f = state.items.factors;
    return `${state.items.ids[i]}: ` + Object.keys(f).map((k) => `${k} ${typeof f[k][i] === "number" ? fmt(f[k][i]) : f[k][i]}`).join(", ");
  }

  function bindPad() {
    const pad = $("pad");
    const moveTo = (x, y, source) => {
      state.z = unproject(...fromCanvas(x, y));
      syncSliders();
      draw();
      requestDecode(source);
    };
    pad.addEventListener("pointerdown", (ev) => {
      audio();
      const [x, y] = eventXY(ev);
      const hit = nearestItem(x, y);
      if (hit !== null) {
        if (ev.shiftKey && !STATIC) setEnd("a", hit);
        else if (ev.altKey && !STATIC) setEnd("b", hit);
        else if (STATIC) { $("hover").textContent = describeItem(hit); moveTo(x, y, "pad"); }
        else playItem(hit);
        return;
      }
      state.dragging = true;
      pad.setPointerCapture(ev.pointerId);
      moveTo(x, y, "pad");
    });
    pad.addEventListener("pointermove", (ev) => {
      const [x, y] = eventXY(ev);
      if (state.dragging) { moveTo(x, y, "pad"); return; }
      const hit = nearestItem(x, y);
      const [u, v] = fromCanvas(x, y);
      $("hover").textContent = hit !== null ? describeItem(hit) : `(${u.toFixed(2)}, ${v.toFixed(2)})`;
    });
    pad.addEventListener("keydown", (ev) => {
      const move = {ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1]}[ev.key];
      if (!move) return;
      ev.preventDefault();
      audio();
      const {u: [u0, u1], v: [v0, v1]} = state.range;
      const scale = ev.shiftKey ? 5 : 1;
      let [u, v] = project(state.z, state.plane);
      u = Math.min(u1, Math.max(u0, u + (move[0] * scale * (u1 - u0)) / KEY_STEPS));
      v = Math.min(v1, Math.max(v0, v + (move[1] * scale * (v1 - v0)) / KEY_STEPS));
      state.z = unproject(u, v);
      syncSliders();
      draw();
      $("hover").textContent = `(${u.toFixed(2)}, ${v.toFixed(2)})`;
      requestDecode("keyboard");
    });
    const release = () => { state.dragging = false; };
    pad.addEventListener("pointerup", release);
    pad.addEventListener("pointercancel", release);
    $("stop").addEventListener("click", () => { state.token++; stop(); });
    $("loop").addEventListener("change", (ev) => { if (state.source) state.source.loop = ev.target.checked; });
    $("plane").addEventListener("change", (ev) => setPlane(ev.target.value));
    $("colour").addEventListener("change", (ev) => setColour(ev.target.value));
    $("download-mid").addEventListener("click", async (ev) => {
      ev.preventDefault();
      try {
        const blob = await api.midi(state.z, state.options);
        const a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = "timbrespace-groove.mid";
        a.click();
        setTimeout(() => URL.revokeObjectURL(a.href), 1000);
      } catch (e) {
        status(e.message, true);
      }
    });
  }

  // ------------------------------------------------------------------ your sound
  function mineStatus(text, error) {
    const el = $("mine-status");
    el.textContent = text;
    el.style.color = error ? "#b91c1c" : "";
  }

  // "Keep mine" starts checked on one latent: the pitch latent (the one with the largest MIG
  // among those whose best factor is f0 or pitch), else the first active one.
  function buildMine() {
    if (STATIC || !state.info.can_encode) return;
    $("mine").hidden = false;
    const latents = state.info.latents;
    const pitch = latents.filter((l) => /f0|pitch|note/i.test(l.best_factor)).sort((a, b) => b.mig - a.mig);
    const kept = new Set((pitch.length ? pitch : latents).slice(0, 1).map((l) => l.index));
    $("keep").innerHTML = latents.map((l) => `<label><input type="checkbox" id="keep-${l.index}" ` +
      `data-latent="${l.index}"${kept.has(l.index) ? " checked" : ""}> keep my z${l.index} ` +
      `(${escape(l.best_factor)})</label>`).join("");
    $("transfer-item").innerHTML = $("item-a").innerHTML;
    $("transfer-item").value = String(state.b);
    $("mine-file").addEventListener("change", (ev) => loadMine(ev.target.files[0]));
    $("mine-go").addEventListener("click", () => {
      audio();
      state.z = Float64Array.from(state.mine.z);
      for (const [name, value] of Object.entries(state.mine.options)) setOption(name, value);  // its tuning
      syncSliders();
      draw();
      playMine();
    });
    $("play-transfer").addEventListener("click", () => {
      audio();
      state.z = mixedZ();
      syncSliders();
      draw();
      requestDecode("transfer");
    });
    const files = (ev) => ev.dataTransfer && Array.from(ev.dataTransfer.types || []).includes("Files");
    document.addEventListener("dragover", (ev) => {
      if (!files(ev)) return;
      ev.preventDefault();  // a file dropped here is encoded, not opened by the browser
      ev.dataTransfer.dropEffect = "copy";
      document.body.classList.add("dropping");
    });
    document.addEventListener("dragleave", (ev) => {
      if (ev.relatedTarget === null) document.body.classList.remove("dropping");
    });
    document.addEventListener("drop", (ev) => {
      if (!files(ev)) return;
      ev.preventDefault();
      document.body.classList.remove("dropping");
      loadMine(ev.dataTransfer.files[0]);
    });
  }

  // Your latents where "keep mine" is checked, the chosen item's everywhere else.
  function mixedZ() {
    const z = Float64Array.from(state.items.latents[Number($("transfer-item").value)]);
    document.querySelectorAll("#keep input:checked").forEach((box) => {
      const j = Number(box.dataset.latent);
      z[j] = state.mine.z[j];
    });
    return z;
  }

  async function loadMine(file) {
    if (!file) return;
    audio();
    const limit = state.info.max_encode_bytes;
    if (file.size > limit) {  // the server would refuse it (413) before reading it
      mineStatus(`${file.name}: ${(file.size / 2 ** 20).toFixed(1)} MiB is too large to encode ` +
        `(at most ${(limit / 2 ** 20).toFixed(0)} MiB of WAV)`, true);
      return;
    }
    mineStatus(`encoding ${file.name} …`);
    try {
      const answer = await api.encode(file);
      for (const url of [state.mine && state.mine.originalUrl, state.mine && state.mine.reconUrl]) {
        if (url) URL.revokeObjectURL(url);
      }
      state.mine = {name: file.name, z: Float64Array.from(answer.z), notes: answer.notes,
        clipped_fraction: answer.clipped_fraction, options: answer.options || {},
        originalUrl: URL.createObjectURL(file), reconUrl: null};
      $("mine-original").src = state.mine.originalUrl;
      $("mine-recon").removeAttribute("src");
      $("mine-players").hidden = false;
      const off = answer.clipped_fraction > CLIP_WARN ?
        ` ${Math.round(100 * answer.clipped_fraction)} % of its features lie outside what the model was trained on.` : "";
      mineStatus(`${file.name}: z = (${answer.z.map((v) => v.toFixed(2)).join(", ")}).` +
        (answer.notes.length ? " " + answer.notes.join("; ") + "." : "") + off);
      state.z = Float64Array.from(state.mine.z);
      for (const [name, value] of Object.entries(state.mine.options)) setOption(name, value);  // its tuning
      syncSliders();
      setPlane(state.plane.key);
      await playMine();
    } catch (e) {
      mineStatus(`${file.name}: ${e.message}`, true);
    }
  }

  // Decode your latents: the reconstruction's player gets the clip, and it plays.
  async function playMine() {
    const token = ++state.token;
    const mine = state.mine;
    try {
      const t0 = performance.now();
      const clip = await api.decode(mine.z, state.options);
      if (mine !== state.mine) return;
      if (mine.reconUrl) URL.revokeObjectURL(mine.reconUrl);
      mine.reconUrl = URL.createObjectURL(new Blob([bytesOf(clip.wav_base64)], {type: "audio/wav"}));
      $("mine-recon").src = mine.reconUrl;
      if (token === state.token) {
        await play(clip, {source: "mine", z: mine.z, label: `${mine.name} reconstruction`,
          latency_ms: performance.now() - t0});
      }
    } catch (e) {
      status(e.message, true);
    }
  }

  // ------------------------------------------------------------------ start
  async function start() {
    try {
      state.info = await api.info();
      state.items = await api.items();
    } catch (e) {
      status(`cannot load the run: ${e.message}`, true);
      return;
    }
    const info = state.info;
    document.title = `${info.name} · timbrespace explore`;
    $("run-name").textContent = info.name;
    $("run-meta").textContent = `kind ${info.kind} · ${info.latent_dim} latents (${info.latents.length} active) · ` +
      `${info.n_items} items · ${info.sample_rate} Hz${STATIC ? " · static page" : ""}`;
    state.z = Float64Array.from(info.origin);
    state.planes = buildPlanes();
    $("plane").innerHTML = state.planes.map((p) => `<option value="${p.key}">${escape(p.label)}</option>`).join("");
    $("colour").innerHTML = info.factors.map((f) => `<option value="${escape(f)}">${escape(f)}</option>`).join("");
    [$("steps").min, $("steps").max] = info.path_steps;  // the library's one range
    $("loop").checked = info.kind === "drums";
    $("download-mid").hidden = info.kind !== "drums" || Boolean(STATIC);
    buildOptions();
    buildSliders();
    buildItemPickers();
    buildMine();
    bindPad();
    setPlane(state.planes[0].key);
    if (info.factors.length) setColour(info.factors[0]);
    // For scripts and tests: where item i is drawn (CSS pixels from the pad's top-left
    // corner), whether a decode is in flight or queued, whether a clip is sounding, and
    // the pad's plane and the latent range it shows.
    window.explorer = {
      busy: () => state.inflight || state.queued !== null,
      playing: () => state.source !== null,
      range: () => ({u: [...state.range.u], v: [...state.range.v]}),
      plane: () => ({...state.plane}),
      options: () => ({...state.options}),  // the decode options sent with z (tuning set by an encoded sound)
      itemPosition: (i) => {
        const c = $("pad"), r = c.getBoundingClientRect(), [x, y] = toCanvas(...state.itemXY[i]);
        return [(x * r.width) / c.width, (y * r.height) / c.height];
      },
      // your encoded sound: its name, latents and where its marker is drawn (CSS px), or null
      mine: () => {
        if (!state.mine) return null;
        const c = $("pad"), r = c.getBoundingClientRect(), [x, y] = toCanvas(...project(state.mine.z, state.plane));
        return {name: state.mine.name, z: Array.from(state.mine.z), notes: state.mine.notes,
          position: [(x * r.width) / c.width, (y * r.height) / c.height]};
      },
    };
    document.body.dataset.ready = "true";
    requestAnimationFrame(animate);
  }

  start();
})();
