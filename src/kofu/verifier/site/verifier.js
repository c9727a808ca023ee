// kofu's public verifier: reads a certificate's QR code and checks the issuance center's
// signature in this browser, with nothing sent anywhere.  The payload is
// "KF1:" + Base45(zlib(COSE_Sign1(CBOR claims))), signed ES256 (see kofu.documents.payload);
// the center's published keys come with the page (keys.js).  The words are in the page
// (the JSON block #words), not here.
(() => {
  "use strict";
  const PREFIX = "KF1:";
  const ES256 = -7;
  const ALG = 1;
  const KID = 4;
  const COSE_SIGN1 = 18;
  const CLAIMS = {
    document_id: 1, city: 2, type: 3, issued_at: 4, holder_digest: 5,
    content_digest: 6, content_length: 7, holder_name: 8, issue_number: 9,
  };
  const WORDS = JSON.parse(document.getElementById("words").textContent);

  class Invalid extends Error {
    constructor(reason) {
      super(reason);
      this.reason = reason;
    }
  }

  // ---- Base45 (RFC 9285) ----------------------------------------------------------------
  const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  function base45(text) {
    const values = [...text].map((c) => {
      const n = B45.indexOf(c);
      if (n < 0) throw new Invalid("corrupt");
      return n;
    });
    if (values.length % 3 === 1) throw new Invalid("corrupt");
    const out = [];
    for (let i = 0; i < values.length; i += 3) {
      if (values.length - i >= 3) {
        const n = values[i] + values[i + 1] * 45 + values[i + 2] * 2025;
        if (n > 0xffff) throw new Invalid("corrupt");
        out.push(n >> 8, n & 0xff);
      } else {
        const n = values[i] + values[i + 1] * 45;
        if (n > 0xff) throw new Invalid("corrupt");
        out.push(n);
      }
    }
    return new Uint8Array(out);
  }

  // ---- zlib, by the browser's own DecompressionStream ("deflate" is RFC 1950) --------------
  async function inflate(bytes) {
    try {
      const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
      return new Uint8Array(await new Response(stream).arrayBuffer());
    } catch {
      throw new Invalid("truncated");
    }
  }

  // ---- CBOR (RFC 8949): the definite-length subset kofu writes; the first item is read ----
  function cbor(bytes) {
    if (!(bytes instanceof Uint8Array)) throw new Invalid("corrupt");
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    const need = (n) => {
      if (n < 0 || at + n > bytes.length) throw new Invalid("corrupt");
    };
    const utf8 = new TextDecoder("utf-8", { fatal: true });
    function length(info) {
      if (info < 24) return info;
      const sizes = { 24: 1, 25: 2, 26: 4, 27: 8 };
      const size = sizes[info];
      if (!size) throw new Invalid("corrupt"); // indefinite lengths: kofu never writes them
      need(size);
      let value;
      if (size === 1) value = view.getUint8(at);
      else if (size === 2) value = view.getUint16(at);
      else if (size === 4) value = view.getUint32(at);
      else value = Number(view.getBigUint64(at));
      at += size;
      return value;
    }
    function item(depth) {
      if (depth > 32) throw new Invalid("corrupt");
      need(1);
      const head = bytes[at++];
      const major = head >> 5;
      const info = head & 31;
      if (major === 7) {
        const simple = { 20: false, 21: true, 22: null, 23: undefined };
        if (info in simple) return simple[info];
        if (info === 25 || info === 26 || info === 27) {
          const size = { 25: 2, 26: 4, 27: 8 }[info];
          need(size);
          const value = size === 2 ? half(view.getUint16(at)) : size === 4 ? view.getFloat32(at) : view.getFloat64(at);
          at += size;
          return value;
        }
        throw new Invalid("corrupt");
      }
      const n = length(info);
      switch (major) {
        case 0: return n;
        case 1: return -1 - n;
        case 2: { need(n); const v = bytes.slice(at, at + n); at += n; return v; }
        case 3: {
          need(n);
          let v;
          try { v = utf8.decode(bytes.subarray(at, at + n)); } catch { throw new Invalid("corrupt"); }
          at += n;
          return v;
        }
        case 4: { const v = []; for (let i = 0; i < n; i++) v.push(item(depth + 1)); return v; }
        case 5: {
          const v = new Map();
          for (let i = 0; i < n; i++) { const k = item(depth + 1); v.set(k, item(depth + 1)); }
          return v;
        }
        default: return { tag: n, value: item(depth + 1) }; // major 6
      }
    }
    return item(0);
  }
  function half(bits) {
    const exp = (bits >> 10) & 0x1f;
    const frac = bits & 0x3ff;
    const sign = bits & 0x8000 ? -1 : 1;
    if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
    if (exp === 31) return frac ? NaN : sign * Infinity;
    return sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  function head(major, n) {
    if (n < 24) return [(major << 5) | n];
    if (n < 0x100) return [(major << 5) | 24, n];
    if (n < 0x10000) return [(major << 5) | 25, n >> 8, n & 0xff];
    return [(major << 5) | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  }
  function sigStructure(protectedBytes, payload) {
    // ["Signature1", protected, h'', payload] (RFC 9052 §4.4)
    const context = new TextEncoder().encode("Signature1");
    const parts = [
      head(4, 4), head(3, context.length), [...context],
      head(2, protectedBytes.length), [...protectedBytes], head(2, 0),
      head(2, payload.length), [...payload],
    ];
    return new Uint8Array(parts.flat());
  }

  // ---- the center's published keys, bundled with the page --------------------------------
  const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const keys = new Map();
  const ready = Promise.all((window.KOFU_KEYS || []).map(async (k) => {
    const key = await crypto.subtle.importKey(
      "spki", unb64(k.spki), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    keys.set(k.kid, key);
  }));

  // ---- the payload, as kofu.documents.payload.open_payload reads it ----------------------
  async function openPayload(text) {
    text = text.replace(/\n+$/, "");
    if (!text.startsWith(PREFIX)) throw new Invalid("not_kofu");
    const raw = await inflate(base45(text.slice(PREFIX.length)));
    const cose = cbor(raw);
    const value = cose && cose.tag === COSE_SIGN1 && "value" in cose ? cose.value : cose;
    if (!Array.isArray(value) || value.length !== 4) throw new Invalid("not_kofu");
    const [protectedBytes, , payload, signature] = value;
    const header = cbor(protectedBytes);
    if (!(header instanceof Map) || header.get(ALG) !== ES256) throw new Invalid("not_kofu");
    await ready;
    const kid = header.get(KID);
    const key = kid instanceof Uint8Array ? keys.get(hex(kid)) : undefined;
    if (!key) throw new Invalid("unknown_key");
    if (!(signature instanceof Uint8Array) || signature.length !== 64 || !(payload instanceof Uint8Array)) {
      throw new Invalid("bad_signature");
    }
    const good = await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" }, key, signature, sigStructure(protectedBytes, payload));
    if (!good) throw new Invalid("bad_signature");
    const map = cbor(payload);
    if (!(map instanceof Map)) throw new Invalid("not_kofu");
    const claims = {};
    for (const [name, number] of Object.entries(CLAIMS)) {
      if (!map.has(number)) throw new Invalid("not_kofu");
      claims[name] = map.get(number);
    }
    if (typeof claims.issued_at !== "number" || !Number.isFinite(claims.issued_at)) {
      throw new Invalid("not_kofu");
    }
    return claims;
  }

  // ---- reading the code: the browser's BarcodeDetector where it has one, else jsQR ------
  const detector = "BarcodeDetector" in window
    ? (() => { try { return new window.BarcodeDetector({ formats: ["qr_code"] }); } catch { return null; } })()
    : null;
  function pick(texts) {
    return texts.find((t) => t.startsWith(PREFIX)) ?? texts[0] ?? null;
  }
  // jsQR alone misses a small code on a whole noisy page: look where the page swings most
  // between dark and light (a code), cut that out, enlarge and soften it, then decode.
  function grey(rgba, w, h) {
    const g = new Float32Array(w * h);
    for (let i = 0; i < w * h; i++) g[i] = 0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2];
    return g;
  }
  // places where a QR code may be: windows whose pixels swing most between dark and light
  function candidates(g, w, h, count) {
    const cell = Math.max(4, Math.round(Math.min(w, h) / 120));
    const cw = Math.floor(w / cell), ch = Math.floor(h / cell);
    const dark = new Float32Array(cw * ch), edge = new Float32Array(cw * ch);
    for (let y = 0; y < ch * cell; y++) for (let x = 0; x < cw * cell; x++) {
      const v = g[y * w + x], c = Math.floor(y / cell) * cw + Math.floor(x / cell);
      if (v < 110) dark[c]++;
      if (x + 1 < w && Math.abs(v - g[y * w + x + 1]) > 80) edge[c]++;
    }
    const n = cell * cell;
    const score = new Float32Array(cw * ch);
    for (let c = 0; c < cw * ch; c++) { const d = dark[c] / n; score[c] = d > 0.2 && d < 0.8 ? edge[c] / n : 0; }
    // window sum over k×k cells, k ~ the side of a code on a page (a seventh of the width)
    const k = Math.max(3, Math.round(cw / 8));
    const found = [];
    const used = new Uint8Array(cw * ch);
    for (let round = 0; round < count; round++) {
      let best = -1, bx = 0, by = 0;
      for (let y = 0; y + k <= ch; y++) for (let x = 0; x + k <= cw; x++) {
        let s = 0, hit = false;
        for (let j = 0; j < k && !hit; j++) for (let i = 0; i < k; i++) { const c = (y + j) * cw + x + i; if (used[c]) { hit = true; break; } s += score[c]; }
        if (!hit && s > best) { best = s; bx = x; by = y; }
      }
      if (best <= 0) break;
      for (let j = 0; j < k; j++) for (let i = 0; i < k; i++) used[(by + j) * cw + bx + i] = 1;
      const m = Math.round(k * 0.5);
      const x0 = Math.max(0, (bx - m) * cell), y0 = Math.max(0, (by - m) * cell);
      const x1 = Math.min(w, (bx + k + m) * cell), y1 = Math.min(h, (by + k + m) * cell);
      found.push([x0, y0, x1 - x0, y1 - y0]);
    }
    return found;
  }
  // the region cut out, enlarged `scale` times (bilinear) and softened (3×3 box), as RGBA
  function region(g, w, h, [x0, y0, rw, rh], scale) {
    const W = Math.round(rw * scale), H = Math.round(rh * scale);
    const out = new Float32Array(W * H);
    for (let Y = 0; Y < H; Y++) for (let X = 0; X < W; X++) {
      const sx = x0 + (X + 0.5) / scale - 0.5, sy = y0 + (Y + 0.5) / scale - 0.5;
      const ix = Math.min(w - 2, Math.max(0, Math.floor(sx))), iy = Math.min(h - 2, Math.max(0, Math.floor(sy)));
      const fx = Math.min(1, Math.max(0, sx - ix)), fy = Math.min(1, Math.max(0, sy - iy));
      const a = g[iy * w + ix], b = g[iy * w + ix + 1], c = g[(iy + 1) * w + ix], d = g[(iy + 1) * w + ix + 1];
      out[Y * W + X] = (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
    }
    const rgba = new Uint8ClampedArray(W * H * 4);
    for (let Y = 0; Y < H; Y++) for (let X = 0; X < W; X++) {
      let s = 0, n = 0;
      for (let j = -1; j <= 1; j++) for (let i = -1; i <= 1; i++) {
        const xx = X + i, yy = Y + j; if (xx >= 0 && yy >= 0 && xx < W && yy < H) { s += out[yy * W + xx]; n++; }
      }
      const v = s / n, p = 4 * (Y * W + X);
      rgba[p] = rgba[p + 1] = rgba[p + 2] = v; rgba[p + 3] = 255;
    }
    return [rgba, W, H];
  }

  async function codeIn(source, width, height) {
    if (detector) {
      try {
        const found = await detector.detect(source);
        if (found.length) return pick(found.map((f) => f.rawValue));
      } catch { /* fall through to jsQR */ }
    }
    if (typeof window.jsQR !== "function" || !width || !height) return null;
    const fit = Math.min(1, 2400 / Math.max(width, height));
    const w = Math.round(width * fit);
    const h = Math.round(height * fit);
    const canvas = new OffscreenCanvas(w, h);
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.fillStyle = "#fff";
    context.fillRect(0, 0, w, h);
    context.drawImage(source, 0, 0, w, h);
    const rgba = context.getImageData(0, 0, w, h).data;
    const g = grey(rgba, w, h);
    const options = { inversionAttempts: "dontInvert" };
    for (const place of candidates(g, w, h, 3)) {
      for (const scale of [2, 1.5, 3]) {
        const [data, W, H] = region(g, w, h, place, scale);
        const found = window.jsQR(data, W, H, options);
        if (found && found.data) return found.data;
      }
    }
    const found = window.jsQR(rgba, w, h, options); // a code that fills the picture
    return found && found.data ? found.data : null;
  }

  // ---- the page ----------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  const result = $("result");
  const say = (key) => WORDS[key] || WORDS.reasons.corrupt;

  function showRefusal(reason) {
    result.hidden = false;
    result.className = "refused";
    result.dataset.genuine = "false";
    result.dataset.reason = reason;
    $("verdict").textContent = say("refused");
    $("reason").textContent = WORDS.reasons[reason] || WORDS.reasons.corrupt;
    $("claims").hidden = true;
  }
  function showClaims(claims) {
    result.hidden = false;
    result.className = "genuine";
    result.dataset.genuine = "true";
    result.dataset.reason = "";
    $("verdict").textContent = say("genuine");
    $("reason").textContent = say("compare");
    const issued = new Date(claims.issued_at * 1000);
    const jst = new Intl.DateTimeFormat("ja-JP", {
      timeZone: "Asia/Tokyo", dateStyle: "long", timeStyle: "short",
    }).format(issued);
    $("c-type").textContent = WORDS.types[claims.type] || String(claims.type);
    $("c-holder").textContent = String(claims.holder_name);
    $("c-city").textContent = String(claims.city);
    $("c-issued").textContent = jst;
    $("c-number").textContent = String(claims.issue_number);
    $("c-document").textContent = String(claims.document_id);
    $("claims").hidden = false;
  }
  async function check(text) {
    if (text === null) return showRefusal("no_code");
    try {
      showClaims(await openPayload(text));
    } catch (error) {
      showRefusal(error instanceof Invalid ? error.reason : "corrupt");
    }
  }

  $("file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    result.dataset.busy = "true";
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      delete result.dataset.busy;
      return showRefusal("unreadable");
    }
    const preview = $("paper");
    preview.width = bitmap.width;
    preview.height = bitmap.height;
    preview.getContext("2d").drawImage(bitmap, 0, 0);
    preview.hidden = false;
    await check(await codeIn(bitmap, bitmap.width, bitmap.height));
    delete result.dataset.busy;
  });

  $("pasted").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("paper").hidden = true;
    $("file").value = ""; // the answer is the pasted code's, not the image's named beside it
    await check($("payload").value.trim());
  });

  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    const button = $("camera");
    button.hidden = false;
    button.addEventListener("click", async () => {
      let stream;
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      } catch {
        return showRefusal("no_camera");
      }
      const video = $("video");
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      const started = Date.now();
      const look = async () => {
        const text = await codeIn(video, video.videoWidth, video.videoHeight);
        if (text || Date.now() - started > 60000) {
          stream.getTracks().forEach((t) => t.stop());
          video.hidden = true;
          return check(text);
        }
        setTimeout(look, 300);
      };
      look();
    });
  }
  if (!detector && typeof window.jsQR !== "function") $("no-decoder").hidden = false;
  $("key-count").textContent = String((window.KOFU_KEYS || []).length);
  document.body.dataset.ready = "true";
})();
