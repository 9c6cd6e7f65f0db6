/*! Mostrador live chat widget. See docs/channels/webchat.md for the protocol it speaks. */
(function () {
  "use strict";
  if (window.MostradorChat) return;

  const script = document.currentScript || Array.from(document.querySelectorAll("script[data-inbox]"))
    .find((s) => /\/widget\.js([?#]|$)/.test(s.src));
  const KEY = script && script.getAttribute("data-inbox");
  if (!KEY) {
    if (window.console) console.warn("Mostrador chat: the script tag needs data-inbox");
    return;
  }
  const BASE = new URL(script.src, location.href).origin;
  const HTTP = BASE + "/channels/webchat/" + encodeURIComponent(KEY) + "/";
  const WS = BASE.replace(/^http/, "ws") + "/ws/chat/" + encodeURIComponent(KEY) + "/";
  const P = "mostrador.chat." + KEY + ".";

  /* ---------------------------------------------------------------- texts */
  const TEXTS = {
    es: {
      open: "Abrir el chat", close: "Cerrar el chat", unread: "{n} mensajes sin leer",
      chat: "Chat", menu: "Más opciones", you: "Tú", agent: "Agente", bot: "Asistente",
      someone: "Un agente",
      online: "En línea", busy: "Ocupado", offline: "Sin agentes conectados", closed: "Cerrado",
      onlineMsg: "Solemos responder en pocos minutos.",
      busyMsg: "Todo el equipo está ocupado; hay {n} personas esperando. Te atenderemos en cuanto podamos.",
      offlineMsg: "Ahora no hay nadie conectado. Te responderemos aquí y por correo electrónico.",
      closedMsg: "Ahora estamos cerrados. Te responderemos cuando abramos.",
      closedAt: "Ahora estamos cerrados. Abrimos el {t}.",
      prechat: "Antes de empezar, cuéntanos un poco sobre ti.",
      name: "Nombre", email: "Correo electrónico", topic: "Tema", chooseTopic: "Elige un tema",
      optional: "(opcional)", required: "Rellena este campo.",
      badEmail: "Escribe una dirección de correo válida, como nombre@ejemplo.com.",
      emailHint: "Si te vas antes de que respondamos, te enviaremos la respuesta a este correo.",
      emailNudge: "Sin un correo solo podremos responderte aquí. Escríbelo o pulsa Enviar otra vez para seguir sin él.",
      askEmail: "Déjanos tu correo y te avisaremos cuando respondamos.",
      save: "Guardar", saved: "Gracias. Te escribiremos a {e}.",
      message: "Escribe tu mensaje", placeholder: "Escribe un mensaje…",
      placeholderOff: "Déjanos un mensaje…",
      send: "Enviar", attach: "Adjuntar un archivo", emoji: "Insertar un emoji",
      emojiList: "Emojis",
      transcript: "Enviarme la conversación por correo",
      continue: "Continuar en otro dispositivo",
      transcriptAsk: "¿A qué dirección te enviamos la conversación?",
      magicAsk: "Te enviaremos un enlace para seguir esta conversación en otro dispositivo. Vale durante 24 horas.",
      transcriptSent: "Te hemos enviado la conversación a {e}.",
      magicSent: "Te hemos enviado un enlace a {e}. Ábrelo en el otro dispositivo; vale durante 24 horas.",
      cancel: "Cancelar", dismiss: "Cerrar el aviso",
      sending: "Enviando…", sent: "Enviado", delivered: "Entregado", read: "Leído",
      failed: "No se ha enviado.", retry: "Reintentar",
      typing: "{name} está escribiendo…",
      nowWith: "Ahora te atiende {name}.",
      reconnecting: "Reconectando…",
      offlineNet: "Sin conexión a internet. Tus mensajes se enviarán cuando vuelva.",
      tooLong: "Tu mensaje es demasiado largo ({n} de {max} caracteres como máximo). Acórtalo o divídelo en varios.",
      tooBig: "El archivo es demasiado grande. El máximo es {max}.",
      rateLimited: "Estás enviando mensajes muy deprisa. Lo volveremos a intentar en {s} s.",
      uploadFailed: "No se ha podido subir el archivo.",
      error: "Algo ha fallado. Inténtalo de nuevo.",
      unavailable: "El chat no está disponible ahora mismo.",
      human: "Hablar con una persona",
      humanAsked: "Te pasamos con una persona del equipo. Espera un momento, por favor.",
      ended: "Esta conversación ha terminado. Si escribes, empezaremos otra.",
      continued: "Ya puedes seguir la conversación en este dispositivo.",
      attachment: "Archivo adjunto",
    },
    en: {
      open: "Open the chat", close: "Close the chat", unread: "{n} unread messages",
      chat: "Chat", menu: "More options", you: "You", agent: "Agent", bot: "Assistant",
      someone: "An agent",
      online: "Online", busy: "Busy", offline: "No agents online", closed: "Closed",
      onlineMsg: "We usually answer in a few minutes.",
      busyMsg: "Everyone is busy; {n} people are waiting. We'll be with you as soon as we can.",
      offlineMsg: "Nobody is online right now. We'll answer here and by e-mail.",
      closedMsg: "We're closed right now. We'll answer when we open.",
      closedAt: "We're closed right now. We open on {t}.",
      prechat: "Before we start, tell us a little about yourself.",
      name: "Name", email: "E-mail", topic: "Topic", chooseTopic: "Choose a topic",
      optional: "(optional)", required: "Fill in this field.",
      badEmail: "Enter a valid e-mail address, like name@example.com.",
      emailHint: "If you leave before we answer, we'll send the answer to this address.",
      emailNudge: "Without an e-mail we can only answer here. Add it, or press Send again to go on without it.",
      askEmail: "Leave your e-mail and we'll let you know when we answer.",
      save: "Save", saved: "Thank you. We'll write to {e}.",
      message: "Write your message", placeholder: "Write a message…",
      placeholderOff: "Leave us a message…",
      send: "Send", attach: "Attach a file", emoji: "Insert an emoji",
      emojiList: "Emoji",
      transcript: "Email me the transcript",
      continue: "Continue on another device",
      transcriptAsk: "Where should we send the transcript?",
      magicAsk: "We'll send you a link to continue this chat on another device. It's valid for 24 hours.",
      transcriptSent: "We've sent the transcript to {e}.",
      magicSent: "We've sent a link to {e}. Open it on the other device; it's valid for 24 hours.",
      cancel: "Cancel", dismiss: "Dismiss",
      sending: "Sending…", sent: "Sent", delivered: "Delivered", read: "Read",
      failed: "Not sent.", retry: "Retry",
      typing: "{name} is typing…",
      nowWith: "You are now talking to {name}.",
      reconnecting: "Reconnecting…",
      offlineNet: "You're offline. Your messages will be sent when you're back.",
      tooLong: "Your message is too long ({n} of at most {max} characters). Shorten it or split it up.",
      tooBig: "The file is too large. The limit is {max}.",
      rateLimited: "You're sending messages very fast. We'll try again in {s} s.",
      uploadFailed: "The file couldn't be uploaded.",
      error: "Something went wrong. Please try again.",
      unavailable: "The chat isn't available right now.",
      human: "Talk to a person",
      humanAsked: "We're passing you to a person on our team. Please wait a moment.",
      ended: "This conversation has ended. If you write, we'll start a new one.",
      continued: "You can go on with the conversation on this device.",
      attachment: "Attachment",
    },
  };
  const nav = (navigator.language || "").toLowerCase();
  let lang = (script.getAttribute("data-lang") || "").toLowerCase().slice(0, 2);
  if (!TEXTS[lang]) lang = nav.startsWith("en") ? "en" : "es";
  const t = (k, v) => String(TEXTS[lang][k]).replace(/\{(\w+)\}/g, (_, x) => (v && v[x] != null ? v[x] : ""));

  /* -------------------------------------------------------------- storage */
  // localStorage can be missing or throwing (private modes, blocked third-party storage): keep
  // working from memory for this page view instead.
  const mem = {};
  const store = (name) => {
    try {
      const s = window[name];
      s.setItem(P + "probe", "1");
      s.removeItem(P + "probe");
      return s;
    } catch (e) {
      return null;
    }
  };
  const LS = store("localStorage");
  const SS = store("sessionStorage");
  const get = (s, k) => {
    if (s) try { return s.getItem(P + k); } catch (e) { /* fall back */ }
    return mem[k] == null ? null : mem[k];
  };
  const put = (s, k, v) => {
    if (v == null) delete mem[k]; else mem[k] = v;
    if (s) try { if (v == null) s.removeItem(P + k); else s.setItem(P + k, v); } catch (e) { /* memory */ }
  };
  // The outbox is read fresh every time so that two tabs of the same site do not overwrite each
  // other's unsent messages.
  const outbox = () => {
    try {
      const a = JSON.parse(get(LS, "outbox"));
      return Array.isArray(a) ? a.filter((x) => x && x.client_id) : [];
    } catch (e) {
      return [];
    }
  };
  const saveOutbox = (a) => put(LS, "outbox", a.length ? JSON.stringify(a) : null);
  const dropOutbox = (cid) => {
    const a = outbox();
    const b = a.filter((x) => x.client_id !== cid);
    if (b.length !== a.length) saveOutbox(b);
    return a.find((x) => x.client_id === cid);
  };

  /* -------------------------------------------------------------- helpers */
  const h = (tag, attrs, kids) => {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      const v = attrs[k];
      if (v == null || v === false) continue;
      if (k === "text") e.textContent = v;
      else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of kids || []) if (c != null) e.append(c);
    return e;
  };
  const ICONS = {
    chat: '<path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/>',
    x: '<path d="M6 6l12 12M18 6L6 18"/>',
    more: '<circle cx="5" cy="12" r="1.3"/><circle cx="12" cy="12" r="1.3"/><circle cx="19" cy="12" r="1.3"/>',
    send: '<path d="M4 12l16-8-6 16-2.5-6.5z"/>',
    clip: '<path d="M20 11.5l-8 8a5 5 0 0 1-7-7l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7L9.7 17.2a1.7 1.7 0 0 1-2.4-2.4l7.6-7.6"/>',
    smile: '<circle cx="12" cy="12" r="9"/><path d="M8.5 14.5a4.5 4.5 0 0 0 7 0M9 9.5h.01M15 9.5h.01"/>',
    clock: '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>',
  };
  const icon = (n) => {
    const s = h("span", { class: "mc-i", "aria-hidden": "true" });
    s.innerHTML = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" ' +
      'stroke-linecap="round" stroke-linejoin="round" focusable="false">' + ICONS[n] + "</svg>";
    return s;
  };
  const uid = () => {
    const c = window.crypto;
    if (c && c.randomUUID) return c.randomUUID();
    const a = new Uint8Array(16);
    c.getRandomValues(a);
    return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
  };
  const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
  const chars = (s) => Array.from(s).length;
  const bytes = (n) => {
    if (!(n >= 0)) return "";
    const u = ["B", "KB", "MB", "GB"];
    let i = 0;
    while (n >= 1024 && i < 3) { n /= 1024; i++; }
    return (i ? n.toLocaleString(lang, { maximumFractionDigits: 1 }) : n) + " " + u[i];
  };
  const safeUrl = (u, withToken) => {
    try {
      const x = new URL(u, BASE);
      if (x.protocol !== "http:" && x.protocol !== "https:") return null;
      if (withToken && token && x.origin === BASE && !x.searchParams.has("t")) x.searchParams.set("t", token);
      return x.href;
    } catch (e) {
      return null;
    }
  };
  const URLS = /\bhttps?:\/\/[^\s<>"']+/gi;
  const linkify = (node, text) => {
    let i = 0;
    for (const m of text.matchAll(URLS)) {
      let u = m[0].replace(/[.,;:!?'"]+$/, "");
      if (u.endsWith(")") && !u.includes("(")) u = u.slice(0, -1);
      const href = safeUrl(u);
      node.append(text.slice(i, m.index));
      node.append(href ? h("a", { href, target: "_blank", rel: "noopener noreferrer", text: u }) : u);
      i = m.index + u.length;
    }
    node.append(text.slice(i));
  };
  const timeOf = (iso) => {
    const d = new Date(iso);
    if (isNaN(d)) return "";
    const o = { hour: "2-digit", minute: "2-digit" };
    if (d.toDateString() !== new Date().toDateString()) { o.day = "numeric"; o.month = "short"; }
    try { return d.toLocaleString(lang, o); } catch (e) { return ""; }
  };
  // Text colour on the inbox colour: whichever of white or near-black contrasts more.
  const onColor = (hex) => {
    let x = hex.slice(1);
    if (x.length < 6) x = x.split("").map((c) => c + c).join("");
    const l = [0, 2, 4].map((i) => {
      const c = parseInt(x.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    const y = 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
    return 1.05 / (y + 0.05) >= (y + 0.05) / 0.05 ? "#fff" : "#111";
  };

  /* ------------------------------------------------------------------ CSS */
  const CSS = `:host{all:initial!important}
*{box-sizing:border-box}
.mc{--c:#1f6feb;--on:#fff;--bg:#fff;--fg:#1a1f24;--mut:#57606a;--bd:#c9d1d9;--desk:#eef1f4;--link:#0550ae;--err:#b42318;--errbg:#fdecea;--fc:#0b57d0;--warn:#fff4d6;--warnfg:#5c4400;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);text-align:left}
@media (prefers-color-scheme:dark){.mc{--bg:#1c2128;--fg:#e6edf3;--mut:#a3adb8;--bd:#444c56;--desk:#2d333b;--link:#8ab4f8;--err:#ff9b91;--errbg:#3d1f1c;--fc:#8ab4f8;--warn:#3b3020;--warnfg:#f2d591}}
button,input,select,textarea{font:inherit;color:inherit;margin:0}
button{cursor:pointer}
:focus-visible{outline:2px solid var(--fc);outline-offset:2px}
[hidden]{display:none!important}
.mc-sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.mc-i{display:inline-flex}.mc-i svg{width:20px;height:20px}
.mc-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:58px;height:58px;border:0;border-radius:50%;padding:0;background:var(--c);color:var(--on);box-shadow:0 4px 16px rgba(0,0,0,.28);display:grid;place-items:center;transition:transform .15s}
.mc-launcher:hover{transform:scale(1.06)}
.mc-launcher .mc-i svg{width:28px;height:28px}
.mc-launcher:focus-visible{outline:3px solid var(--fc);outline-offset:3px}
.mc-badge{position:absolute;top:-3px;right:-3px;min-width:21px;height:21px;padding:0 6px;border-radius:11px;background:#c4161c;color:#fff;font-size:12px;font-weight:700;line-height:21px;text-align:center;box-shadow:0 0 0 2px #fff}
.mc-panel{position:fixed;right:20px;bottom:92px;z-index:2147483001;width:370px;height:560px;max-width:calc(100vw - 40px);max-height:calc(100vh - 112px);display:flex;flex-direction:column;background:var(--bg);border-radius:14px;box-shadow:0 12px 40px rgba(0,0,0,.3);overflow:hidden}
@media (prefers-reduced-motion:no-preference){.mc-panel{animation:mc-in .18s ease-out}}
@keyframes mc-in{from{opacity:0;transform:translateY(10px)}}
@media (max-width:480px){.mc-panel{inset:0;width:100%;height:100%;max-width:none;max-height:none;border-radius:0}.mc-open .mc-launcher{display:none}}
.mc-head{position:relative;display:flex;align-items:flex-start;gap:4px;padding:14px 10px 12px 16px;background:var(--c);color:var(--on)}
.mc-head>div{flex:1;min-width:0}
.mc-title{margin:0;font-size:16px;font-weight:650;line-height:1.3;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.mc-availability{margin:3px 0 0;font-size:12.5px;line-height:1.35}
.mc-dot{display:inline-block;width:8px;height:8px;margin-right:6px;border-radius:50%;background:#8c959f;box-shadow:0 0 0 1.5px var(--on);vertical-align:1px}
[data-state=online] .mc-dot{background:#2da44e}[data-state=busy] .mc-dot{background:#d4a72c}
.mc-state{font-weight:600}
.mc-btn{display:inline-grid;place-items:center;flex:none;width:36px;height:36px;padding:0;border:0;border-radius:8px;background:none;color:inherit}
.mc-btn:hover{background:rgba(127,127,127,.18)}
.mc-head :focus-visible{outline-color:var(--on)}
.mc-menu{position:absolute;top:50px;right:10px;z-index:3;min-width:230px;padding:4px;background:var(--bg);color:var(--fg);border:1px solid var(--bd);border-radius:10px;box-shadow:0 8px 24px rgba(0,0,0,.2)}
.mc-menu button{display:block;width:100%;padding:9px 12px;border:0;border-radius:6px;background:none;text-align:left}
.mc-menu button:hover,.mc-menu button:focus{background:var(--desk)}
.mc-banner{padding:6px 12px;background:var(--warn);color:var(--warnfg);font-size:13px;text-align:center}
.mc-body{flex:1;display:flex;flex-direction:column;overflow-y:auto;overscroll-behavior:contain;padding:12px 12px 8px}
.mc-log{display:flex;flex-direction:column}
.mc-msg{display:flex;flex-direction:column;align-items:flex-start;max-width:84%;margin-top:10px}
.mc-msg.mc-cont{margin-top:3px}.mc-cont .mc-who{display:none}
.mc-msg[data-author=visitor]{align-self:flex-end;align-items:flex-end}
.mc-msg[data-author=system]{align-self:center;align-items:center;max-width:92%;text-align:center;color:var(--mut);font-size:12.5px}
.mc-who{margin:0 8px 2px;font-size:12px;color:var(--mut)}
.mc-bubble,.mc-greeting{padding:8px 12px;border-radius:16px;background:var(--desk);white-space:pre-wrap;overflow-wrap:anywhere}
.mc-greeting{align-self:flex-start;max-width:84%}
.mc-bubble:empty{display:none}
.mc-bubble a{color:var(--link)}
[data-author=visitor] .mc-bubble{background:var(--c);color:var(--on)}
[data-author=visitor] .mc-bubble a{color:inherit}
[data-author=system] .mc-bubble{padding:2px 4px;background:none}
[data-state=pending] .mc-bubble{opacity:.72}
[data-state=failed] .mc-bubble{box-shadow:0 0 0 2px var(--err)}
.mc-att{display:flex;flex-direction:column;gap:4px;margin-top:4px;white-space:normal}
.mc-att:first-child{margin-top:0}
.mc-att img{display:block;max-width:100%;max-height:180px;margin-bottom:2px;border-radius:8px}
.mc-meta{display:flex;align-items:center;gap:5px;margin:2px 8px 0;font-size:11.5px;color:var(--mut)}
.mc-meta:empty{display:none}
.mc-status{display:inline-flex;align-items:center;letter-spacing:-2px}
.mc-status .mc-i svg{width:12px;height:12px}
[data-state=read] .mc-status{color:var(--link)}
.mc-retry{padding:0;border:0;background:none;color:var(--link);text-decoration:underline;font-size:11.5px}
.mc-form{display:flex;flex-direction:column;gap:10px;margin-top:12px;padding:12px;border:1px solid var(--bd);border-radius:10px}
.mc-form p{margin:0}
.mc-field label{display:block;margin-bottom:3px;font-size:13px;font-weight:600}
.mc-field label span{font-weight:400;color:var(--mut)}
.mc-field input,.mc-field select{width:100%;min-height:38px;padding:7px 10px;border:1px solid var(--bd);border-radius:8px;background:var(--bg)}
[aria-invalid=true]{border-color:var(--err)!important;box-shadow:0 0 0 1px var(--err)}
.mc-hint{margin-top:3px;font-size:12.5px;color:var(--mut)}
.mc-hint.mc-bad,.mc-ferr{color:var(--err)}
.mc-ferr{margin-top:3px;font-size:12.5px}.mc-ferr:empty{display:none}
.mc-row{display:flex;gap:8px;justify-content:flex-end}
.mc-plain,.mc-main,.mc-human{min-height:34px;padding:6px 14px;border-radius:17px;border:1px solid var(--bd);background:var(--bg)}
.mc-main{border-color:var(--c);background:var(--c);color:var(--on)}
.mc-human{align-self:flex-start;margin:0 12px 8px;border-color:var(--c);font-weight:600}
.mc-typing{padding:0 16px 6px;font-size:12.5px;font-style:italic;color:var(--mut)}
.mc-note{display:flex;align-items:flex-start;gap:6px;margin:0 12px 8px;padding:8px 6px 8px 12px;border-radius:8px;background:var(--desk);font-size:13px}
.mc-note.mc-bad{background:var(--errbg);color:var(--err)}
.mc-note>span{flex:1;padding-top:2px}
.mc-note .mc-btn{width:26px;height:26px}
.mc-note .mc-i svg{width:14px;height:14px}
.mc-sheet{display:flex;flex-direction:column;gap:8px;margin:0;padding:12px;border-top:1px solid var(--bd)}
.mc-sheet label{font-size:13px}
.mc-sheet input{min-height:38px;padding:7px 10px;border:1px solid var(--bd);border-radius:8px;background:var(--bg)}
.mc-emojis{display:grid;grid-template-columns:repeat(8,1fr);gap:2px;max-height:168px;overflow-y:auto;padding:8px;border-top:1px solid var(--bd)}
.mc-emojis button{padding:4px 0;border:0;border-radius:6px;background:none;font-size:21px;line-height:1.3;font-family:"Apple Color Emoji","Segoe UI Emoji","Noto Color Emoji",sans-serif}
.mc-emojis button:hover{background:var(--desk)}
.mc-compose{display:flex;align-items:flex-end;gap:2px;padding:8px;border-top:1px solid var(--bd)}
.mc-compose>div{flex:1;min-width:0;display:flex;flex-direction:column}
.mc-input{display:block;width:100%;min-height:40px;max-height:140px;resize:none;padding:9px 12px;border:1px solid var(--bd);border-radius:20px;background:var(--bg);line-height:1.4}
.mc-count{align-self:flex-end;margin:2px 10px 0;font-size:11.5px;color:var(--mut)}
.mc-count.mc-bad{color:var(--err);font-weight:600}
.mc-compose .mc-btn{color:var(--mut);width:38px;height:40px}
.mc-compose .mc-send{width:40px;border-radius:50%;background:var(--c);color:var(--on);margin-left:2px}
.mc-compose .mc-send:hover{background:var(--c);filter:brightness(1.1)}`;

  /* ---------------------------------------------------------------- state */
  let token = get(LS, "token");
  let cfg = null;           // the inbox's config (GET config, refreshed by welcome)
  let avail = null;         // availability
  let conv = null;          // {id, status} or null
  let visitor = {};         // {id, name, email}
  let ws = null;
  let ready = false;        // welcome received on the current socket
  let welcomed = false;     // at least one welcome in this page view
  let wanted = false;       // the widget should stay connected
  let booted = false;       // config loaded and magic link handled
  let fatal = false;        // the server will never accept us (origin, unknown inbox)
  let attempts = 0;
  let retryTimer = 0, pingTimer = 0, pongTimer = 0, pauseTimer = 0, noteTimer = 0;
  let paused = false;       // rate limited: the outbox waits
  let isOpen = false;
  const byId = new Map();   // server id -> element
  const pend = new Map();   // client_id -> element of a message not yet stored
  const uploads = new Map(); // client_id -> File, for retrying failed uploads
  let maxId = 0, deskMax = 0, lastDesk = "", hasAgent = false;
  let sentReceived = 0, sentRead = 0;
  let readUpTo = +get(LS, "read") || 0;
  const marks = { d: 0, r: 0 };
  let humanAt = -1;         // deskMax when "talk to a person" was pressed
  let prechatDone = false, nudged = false, askDismissed = !!get(SS, "noemail");
  let typingOn = false, typingLast = 0, typingIdle = 0;
  const control = [];       // identify/human frames waiting for a welcome
  const tokenWaiters = [];  // uploads waiting for a visitor token

  /* ------------------------------------------------------------------ DOM */
  const host = document.createElement("mostrador-chat");
  const root = host.attachShadow({ mode: "open" });

  const launcher = h("button", {
    type: "button", class: "mc-launcher", "aria-expanded": "false", "aria-controls": "mc-panel",
    "aria-label": t("open"), onclick: () => (isOpen ? close(true) : open(true)),
  }, [icon("chat"), h("span", { class: "mc-badge", "aria-hidden": "true", hidden: true })]);

  const title = h("h2", { class: "mc-title", id: "mc-title", text: t("chat") });
  const availLine = h("p", { class: "mc-availability", "data-state": "" });
  const menuBtn = h("button", {
    type: "button", class: "mc-btn mc-menu-btn", "aria-label": t("menu"), "aria-haspopup": "menu",
    "aria-expanded": "false", "aria-controls": "mc-menu", onclick: () => toggleMenu(),
  }, [icon("more")]);
  const menu = h("div", { class: "mc-menu", id: "mc-menu", role: "menu", hidden: true }, [
    h("button", { type: "button", role: "menuitem", class: "mc-transcript", text: t("transcript"),
      onclick: () => { toggleMenu(false); transcript(); } }),
    h("button", { type: "button", role: "menuitem", class: "mc-continue", text: t("continue"),
      onclick: () => { toggleMenu(false); ask("magic"); } }),
  ]);
  const head = h("div", { class: "mc-head" }, [
    h("div", null, [title, availLine]),
    menuBtn,
    h("button", { type: "button", class: "mc-btn mc-close", "aria-label": t("close"),
      onclick: () => close(true) }, [icon("x")]),
    menu,
  ]);
  const banner = h("div", { class: "mc-banner", role: "status", hidden: true });
  const greeting = h("div", { class: "mc-greeting", hidden: true });
  const log = h("div", { class: "mc-log", role: "log", "aria-live": "polite", "aria-label": t("chat") });
  const prechat = h("form", { class: "mc-form mc-prechat", novalidate: true, hidden: true,
    onsubmit: (e) => { e.preventDefault(); if (input.value.trim()) submit(); else input.focus(); } });
  const askForm = h("form", { class: "mc-form mc-askemail", novalidate: true, hidden: true,
    onsubmit: (e) => { e.preventDefault(); saveEmail(); } });
  const body = h("div", { class: "mc-body" }, [greeting, log, prechat, askForm]);
  const typing = h("div", { class: "mc-typing", "aria-live": "polite", hidden: true });
  const human = h("button", { type: "button", class: "mc-human", text: t("human"), hidden: true,
    onclick: () => askHuman() });
  const noteText = h("span");
  const note = h("div", { class: "mc-note", role: "status", hidden: true }, [noteText,
    h("button", { type: "button", class: "mc-btn", "aria-label": t("dismiss"), onclick: () => hideNote() },
      [icon("x")])]);

  const sheetLabel = h("label", { for: "mc-sheet-email" });
  const sheetInput = h("input", { id: "mc-sheet-email", type: "email", name: "email",
    autocomplete: "email", required: true });
  const sheetErr = h("div", { class: "mc-ferr", id: "mc-sheet-err", "aria-live": "polite" });
  let sheetKind = "";
  const sheet = h("form", { class: "mc-sheet", novalidate: true, hidden: true,
    onsubmit: (e) => { e.preventDefault(); sheetSubmit(); } }, [
    sheetLabel, sheetInput, sheetErr,
    h("div", { class: "mc-row" }, [
      h("button", { type: "button", class: "mc-plain", text: t("cancel"), onclick: () => closeSheet() }),
      h("button", { type: "submit", class: "mc-main", text: t("send") }),
    ]),
  ]);

  const EMOJI = "😀 😂 😊 🙂 😍 😉 😎 🤔 😅 😕 😢 😭 😡 😮 🙏 👍 👎 👏 🙌 👋 💪 🤝 ❤️ 💔 🔥 ✨ 🎉 ✅ ❌ ⚠️ ❓ 💡 📎 📦 🚚 💳 🛒 📧 📞 ⏰".split(" ");
  const emojis = h("div", { class: "mc-emojis", id: "mc-emojis", role: "group", "aria-label": t("emojiList"),
    hidden: true }, EMOJI.map((e) => h("button", { type: "button", text: e, onclick: () => insertEmoji(e) })));

  const input = h("textarea", { class: "mc-input", id: "mc-input", name: "message", rows: "1",
    placeholder: t("placeholder"), "aria-describedby": "mc-count" });
  const count = h("div", { class: "mc-count", id: "mc-count", hidden: true });
  const fileInput = h("input", { type: "file", class: "mc-file", hidden: true, tabindex: "-1",
    "aria-label": t("attach") });
  const emojiBtn = h("button", { type: "button", class: "mc-btn mc-emoji", "aria-label": t("emoji"),
    "aria-expanded": "false", "aria-controls": "mc-emojis", onclick: () => toggleEmoji() }, [icon("smile")]);
  const compose = h("form", { class: "mc-compose", onsubmit: (e) => { e.preventDefault(); submit(); } }, [
    h("button", { type: "button", class: "mc-btn mc-attach", "aria-label": t("attach"),
      onclick: () => fileInput.click() }, [icon("clip")]),
    emojiBtn,
    h("div", null, [h("label", { class: "mc-sr", for: "mc-input", text: t("message") }), input, count]),
    fileInput,
    h("button", { type: "submit", class: "mc-btn mc-send", "aria-label": t("send") }, [icon("send")]),
  ]);

  const panel = h("div", { class: "mc-panel", id: "mc-panel", role: "dialog", "aria-modal": "false",
    "aria-label": t("chat"), hidden: true, lang },
  [head, banner, body, typing, human, note, sheet, emojis, compose]);
  const wrap = h("div", { class: "mc", lang }, [launcher, panel]);
  // A constructed stylesheet is not blocked by a host page's Content-Security-Policy as an inline
  // <style> would be; the <style> is the fallback for browsers without adoptedStyleSheets.
  try {
    const styles = new CSSStyleSheet();
    styles.replaceSync(CSS);
    root.adoptedStyleSheets = [styles];
  } catch (e) {
    root.append(h("style", { text: CSS }));
  }
  root.append(wrap);

  /* ---------------------------------------------------------- open/close */
  function open(focus) {
    if (!isOpen) {
      isOpen = true;
      panel.hidden = false;
      wrap.classList.add("mc-open");
      launcher.setAttribute("aria-expanded", "true");
      launcher.setAttribute("aria-label", t("close"));
      put(SS, "open", "1");
      want();
      scrollDown(true);
      seen();
    }
    if (focus) {
      const first = !prechat.hidden && prechat.querySelector("input,select");
      (first || input).focus();
    }
  }
  function close(focus) {
    if (!isOpen) return;
    isOpen = false;
    panel.hidden = true;
    wrap.classList.remove("mc-open");
    launcher.setAttribute("aria-expanded", "false");
    put(SS, "open", null);
    toggleMenu(false);
    toggleEmoji(false);
    badge();
    if (focus) launcher.focus();
  }
  panel.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    e.stopPropagation();
    if (!emojis.hidden) { toggleEmoji(false); emojiBtn.focus(); }
    else if (!menu.hidden) { toggleMenu(false); menuBtn.focus(); }
    else if (!sheet.hidden) closeSheet();
    else close(true);
  });
  root.addEventListener("click", (e) => {
    const path = e.composedPath();
    if (!menu.hidden && !path.includes(menu) && !path.includes(menuBtn)) toggleMenu(false);
    if (!emojis.hidden && !path.includes(emojis) && !path.includes(emojiBtn)) toggleEmoji(false);
  });

  function toggleMenu(show) {
    if (show == null) show = menu.hidden;
    menu.hidden = !show;
    menuBtn.setAttribute("aria-expanded", String(show));
    if (show) menu.querySelector("button:not([hidden])").focus();
  }
  menu.addEventListener("keydown", (e) => {
    const items = Array.from(menu.querySelectorAll("button:not([hidden])"));
    const i = items.indexOf(root.activeElement);
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      items[(i + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length].focus();
    } else if (e.key === "Tab") {
      toggleMenu(false);
    }
  });
  function toggleEmoji(show) {
    if (show == null) show = emojis.hidden;
    emojis.hidden = !show;
    emojiBtn.setAttribute("aria-expanded", String(show));
    if (show) emojis.querySelector("button").focus();
  }
  function insertEmoji(e) {
    const a = input.selectionStart == null ? input.value.length : input.selectionStart;
    const b = input.selectionEnd == null ? a : input.selectionEnd;
    input.setRangeText(e, a, b, "end");
    toggleEmoji(false);
    input.focus();
    onInput();
  }

  /* --------------------------------------------------------------- notes */
  function showNote(text, bad, keep) {
    clearTimeout(noteTimer);
    noteText.textContent = text;
    note.classList.toggle("mc-bad", !!bad);
    note.setAttribute("role", bad ? "alert" : "status");
    note.hidden = false;
    if (!keep) noteTimer = setTimeout(hideNote, bad ? 15000 : 8000);
  }
  function hideNote() {
    clearTimeout(noteTimer);
    note.hidden = true;
  }
  function setBanner() {
    const down = wanted && !ready && !fatal && (attempts > 0 || navigator.onLine === false);
    banner.hidden = !down;
    if (down) banner.textContent = navigator.onLine === false ? t("offlineNet") : t("reconnecting");
  }

  /* -------------------------------------------------------- availability */
  const offline = () => !!avail && avail.state !== "online";
  function setAvail(a) {
    if (!a || !a.state) return;
    avail = a;
    availLine.setAttribute("data-state", a.state);
    let msg = a.message;
    if (!msg) {
      if (a.state === "busy") msg = t("busyMsg", { n: a.queue || 0 });
      else if (a.state === "closed" && a.opens_at) {
        const d = new Date(a.opens_at);
        msg = isNaN(d) ? t("closedMsg") : t("closedAt", { t: d.toLocaleString(lang, {
          weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" }) });
      } else msg = t(a.state + "Msg");
    }
    availLine.replaceChildren(h("span", { class: "mc-dot", "aria-hidden": "true" }),
      h("span", { class: "mc-state", text: (TEXTS[lang][a.state] ? t(a.state) : a.state) + ". " }),
      h("span", { class: "mc-avail-msg", text: msg }));
    input.placeholder = t(offline() ? "placeholderOff" : "placeholder");
    buildPrechat();
    refresh();
  }

  /* --------------------------------------------------------------- config */
  const limit = (k, d) => (cfg && cfg.limits && cfg.limits[k] > 0 ? cfg.limits[k] : d);
  function applyConfig(c) {
    cfg = Object.assign({}, cfg, c);
    if (cfg.inbox && cfg.inbox.name) {
      title.textContent = cfg.inbox.name;
      panel.setAttribute("aria-label", cfg.inbox.name);
      log.setAttribute("aria-label", cfg.inbox.name);
    }
    const color = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(cfg.color || "") ? cfg.color : "#1f6feb";
    wrap.style.setProperty("--c", color);
    wrap.style.setProperty("--on", onColor(color));
    const g = cfg.greeting && (cfg.greeting[lang] || cfg.greeting.es || cfg.greeting.en);
    greeting.textContent = g || "";
    greeting.hidden = !g;
    if (cfg.availability) setAvail(cfg.availability);
    else buildPrechat();
    refresh();
  }

  /* -------------------------------------------------------------- pre-chat */
  function prechatFields() {
    const topics = (cfg && cfg.topics) || [];
    const list = ((cfg && cfg.prechat_fields) || [])
      .filter((f) => ["name", "email", "topic"].includes(f.name) && (f.name !== "topic" || topics.length));
    if (offline() && !list.some((f) => f.name === "email")) list.push({ name: "email", required: false });
    return list;
  }
  const needPrechat = () => !!cfg && !prechatDone && !conv && !byId.size && !pend.size &&
    (!token || welcomed) && prechatFields().length > 0;
  let prechatShape = "";
  function buildPrechat() {
    if (!cfg) return;
    const fields = prechatFields();
    const shape = JSON.stringify([fields, offline(), cfg.topics]);
    if (shape === prechatShape) return;
    prechatShape = shape;
    const old = {};
    for (const el of prechat.elements) if (el.name) old[el.name] = el.value;
    const kids = [h("p", { text: t("prechat") })];
    for (const f of fields) {
      const id = "mc-f-" + f.name;
      const value = old[f.name] || visitor[f.name] || "";
      let ctl;
      if (f.name === "topic") {
        ctl = h("select", { id, name: "topic" }, [h("option", { value: "", text: t("chooseTopic") })]
          .concat(cfg.topics.map((x) => h("option", { value: x, text: x }))));
      } else {
        ctl = h("input", { id, name: f.name, type: f.name === "email" ? "email" : "text",
          autocomplete: f.name, maxlength: f.name === "email" ? "320" : "200" });
      }
      ctl.value = value;
      if (f.required) { ctl.required = true; ctl.setAttribute("aria-required", "true"); }
      const hint = f.name === "email" && offline()
        ? h("div", { class: "mc-hint", id: id + "-hint", text: t("emailHint") }) : null;
      ctl.setAttribute("aria-describedby", (hint ? id + "-hint " : "") + id + "-err");
      ctl.addEventListener("input", () => fieldError(ctl, ""));
      kids.push(h("div", { class: "mc-field" }, [
        h("label", { for: id }, [t(f.name), f.required ? null : h("span", { text: " " + t("optional") })]),
        ctl, hint, h("div", { class: "mc-ferr", id: id + "-err" }),
      ]));
    }
    prechat.replaceChildren(...kids);
    refresh();
  }
  function fieldError(ctl, msg) {
    ctl.setAttribute("aria-invalid", msg ? "true" : "false");
    const e = root.getElementById(ctl.id + "-err");
    if (e) e.textContent = msg;
  }
  // The pre-chat values, or null (and the first bad field focused) when they are not acceptable.
  function checkPrechat() {
    const values = {};
    let bad = null;
    for (const ctl of prechat.elements) {
      if (!ctl.name) continue;
      const v = ctl.value.trim();
      let msg = "";
      if (ctl.required && !v) msg = t("required");
      else if (ctl.name === "email" && v && !EMAIL.test(v)) msg = t("badEmail");
      fieldError(ctl, msg);
      if (msg && !bad) bad = ctl;
      if (v) values[ctl.name] = v;
    }
    const email = prechat.elements.namedItem("email");
    if (!bad && email && !values.email && offline() && !nudged) {
      // Outside "online" the answer may only reach the visitor by e-mail: ask once more.
      nudged = true;
      const hint = root.getElementById(email.id + "-hint");
      if (hint) { hint.textContent = t("emailNudge"); hint.classList.add("mc-bad"); }
      bad = email;
    }
    if (bad) { bad.focus(); return null; }
    if (email && !values.email && offline()) declineEmail();
    return values;
  }

  // For an ongoing conversation outside "online" hours and no e-mail known yet.
  function buildAskEmail() {
    const show = offline() && !askDismissed && !visitor.email && (!!conv || byId.size > 0) && !needPrechat();
    if (show === !askForm.hidden) return;
    askForm.hidden = !show;
    if (!show || askForm.firstChild) return;
    const ctl = h("input", { id: "mc-ask-email", name: "email", type: "email", autocomplete: "email",
      "aria-describedby": "mc-ask-email-err" });
    askForm.append(
      h("div", { class: "mc-field" }, [h("label", { for: "mc-ask-email", text: t("askEmail") }), ctl,
        h("div", { class: "mc-ferr", id: "mc-ask-email-err" })]),
      h("div", { class: "mc-row" }, [
        h("button", { type: "button", class: "mc-plain", text: t("cancel"),
          onclick: () => { declineEmail(); buildAskEmail(); input.focus(); } }),
        h("button", { type: "submit", class: "mc-main", text: t("save") })]));
  }
  function declineEmail() {
    askDismissed = true;
    put(SS, "noemail", "1");
  }
  function saveEmail() {
    const ctl = askForm.elements.namedItem("email");
    const v = ctl.value.trim();
    if (!EMAIL.test(v)) { fieldError(ctl, t("badEmail")); ctl.focus(); return; }
    identify({ name: visitor.name || "", email: v });
    buildAskEmail();
    showNote(t("saved", { e: v }));
    input.focus();
  }

  /* ------------------------------------------------------------ messages */
  const AUTHORS = ["visitor", "agent", "bot", "system"];
  function messageEl(m, state) {
    const a = AUTHORS.includes(m.author) ? m.author : "agent";
    const el = h("div", { class: "mc-msg", "data-author": a, "data-id": m.id == null ? null : String(m.id),
      "data-name": m.author_name || "" });
    if (a === "agent" || a === "bot") el.append(h("div", { class: "mc-who", text: m.author_name || t(a) }));
    const bubble = h("div", { class: "mc-bubble" });
    if (a === "visitor") el.append(h("span", { class: "mc-sr", text: t("you") + ": " }));
    if (m.text) {
      if (a === "visitor") bubble.append(m.text);
      else linkify(bubble, m.text);
    }
    for (const f of m.attachments || []) {
      const label = (f.name || t("attachment")) + (f.size ? " (" + bytes(f.size) + ")" : "");
      const url = f.url && safeUrl(f.url, true);
      const kids = [icon("clip"), h("span", { text: label })];
      if (url && /^image\//.test(f.content_type || "")) {
        kids.unshift(h("img", { src: url, alt: "", loading: "lazy" }));
      }
      bubble.append(h("div", { class: "mc-att" }, [url
        ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, kids)
        : h("span", null, kids)]));
    }
    el.append(bubble);
    if (a !== "system") {
      const meta = h("div", { class: "mc-meta" });
      const when = m.created_at && timeOf(m.created_at);
      if (when) meta.append(h("time", { datetime: m.created_at, text: when }));
      if (a === "visitor") meta.append(h("span", { class: "mc-status" }));
      el.append(meta);
    }
    if (a === "visitor") setState(el, state || stateOf(+m.id));
    return el;
  }
  const stateOf = (id) => (id <= marks.r ? "read" : id <= marks.d ? "delivered" : "sent");
  function setState(el, st) {
    if (el.getAttribute("data-state") === st) return;
    el.setAttribute("data-state", st);
    const s = el.querySelector(".mc-status");
    if (!s) return;
    const label = { pending: "sending", failed: "failed" }[st] || st;
    s.title = t(label);
    s.replaceChildren();
    if (st === "pending") s.append(icon("clock"));
    else if (st === "delivered") s.append(h("span", { "aria-hidden": "true", text: "✓" }));
    else if (st === "read") s.append(h("span", { "aria-hidden": "true", text: "✓✓" }));
    s.append(h("span", { class: "mc-sr", text: t(label) }));
    if (st === "failed") {
      const cid = el.getAttribute("data-client-id");
      s.after(h("button", { type: "button", class: "mc-retry", text: t("retry"),
        onclick: () => { const f = uploads.get(cid); el.remove(); pend.delete(cid); if (f) upload(f, cid); } }));
    }
  }
  // Keeps server messages in id order, with the not-yet-stored ones after them.
  function place(el, id) {
    let before = null;
    for (const c of log.children) {
      const cid = c.getAttribute("data-id");
      if (cid == null || +cid > id) { before = c; break; }
    }
    log.insertBefore(el, before);
  }
  function group(el) {
    if (!el) return;
    const p = el.previousElementSibling;
    const same = p && p.getAttribute("data-author") === el.getAttribute("data-author") &&
      p.getAttribute("data-name") === el.getAttribute("data-name");
    el.classList.toggle("mc-cont", !!same);
  }
  function addPending(x, file) {
    if (pend.has(x.client_id)) return pend.get(x.client_id);
    const el = messageEl({ author: "visitor", text: x.text,
      attachments: file ? [{ name: file.name, size: file.size }] : [] }, "pending");
    el.setAttribute("data-client-id", x.client_id);
    pend.set(x.client_id, el);
    log.append(el);
    group(el);
    return el;
  }
  function show(m, live) {
    // Internal notes never belong on the visitor's screen, whatever the server sends.
    if (!m || m.id == null || m.author === "note") return;
    const id = +m.id;
    if (m.client_id) {
      const p = pend.get(m.client_id);
      if (p) { p.remove(); pend.delete(m.client_id); uploads.delete(m.client_id); }
      if (m.author === "visitor") dropOutbox(m.client_id);
    }
    const stick = nearBottom();
    const el = messageEl(m);
    const old = byId.get(id);
    if (old) old.replaceWith(el);
    else place(el, id);
    byId.set(id, el);
    group(el);
    group(el.nextElementSibling);
    if (id > maxId) maxId = id;
    if (m.author !== "visitor") {
      if (id >= deskMax) { deskMax = id; lastDesk = m.author; }
      if (m.author === "agent") hasAgent = true;
      if (live) showTyping(false);
    }
    scrollDown(stick || (live && m.author === "visitor"));
  }
  function clearLog() {
    for (const el of byId.values()) el.remove();
    byId.clear();
    maxId = deskMax = sentReceived = sentRead = readUpTo = 0;
    put(LS, "read", null);
    lastDesk = "";
    hasAgent = false;
    marks.d = marks.r = 0;
  }
  function setMarks(f) {
    marks.d = Math.max(marks.d, +f.delivered_up_to || 0, +f.read_up_to || 0);
    marks.r = Math.max(marks.r, +f.read_up_to || 0);
    for (const [id, el] of byId) if (el.getAttribute("data-author") === "visitor") setState(el, stateOf(id));
  }
  const nearBottom = () => body.scrollHeight - body.scrollTop - body.clientHeight < 80;
  function scrollDown(yes) {
    if (yes) requestAnimationFrame(() => { body.scrollTop = body.scrollHeight; });
  }

  // Delivered and read marks for the desk's messages, and the launcher's badge.
  function seen() {
    if (ready && deskMax > sentReceived) {
      tx({ type: "received", up_to: deskMax });
      sentReceived = deskMax;
    }
    if (isOpen && document.visibilityState === "visible" && deskMax > 0) {
      if (deskMax > readUpTo) { readUpTo = deskMax; put(LS, "read", String(readUpTo)); }
      if (ready && deskMax > sentRead) {
        tx({ type: "read", up_to: deskMax });
        sentRead = deskMax;
      }
    }
    badge();
  }
  function badge() {
    let n = 0;
    if (!isOpen) {
      for (const [id, el] of byId) if (id > readUpTo && el.getAttribute("data-author") !== "visitor") n++;
    }
    const b = launcher.querySelector(".mc-badge");
    b.hidden = !n;
    b.textContent = n > 99 ? "99+" : String(n);
    launcher.setAttribute("aria-label", isOpen ? t("close") : t("open") + (n ? ". " + t("unread", { n }) : ""));
  }
  function refresh() {
    prechat.hidden = !needPrechat();
    buildAskEmail();
    const any = !!token && (!!conv || byId.size > 0);
    menuBtn.hidden = !any;
    const botOn = !!(cfg && cfg.bot);
    human.hidden = !(token && (lastDesk === "bot" ? deskMax > humanAt
      : botOn && !hasAgent && humanAt < 0 && (!!conv || byId.size > 0) && lastDesk !== "agent"));
  }
  function afterBatch() {
    refresh();
    seen();
  }

  /* ----------------------------------------------------------- websocket */
  function tx(frame) {
    if (!ws || ws.readyState !== 1) return false;
    try { ws.send(JSON.stringify(frame)); return true; } catch (e) { return false; }
  }
  function sendControl(frame) {
    if (ready && tx(frame)) return;
    const i = control.findIndex((f) => f.type === frame.type);
    if (i >= 0) control.splice(i, 1);
    control.push(frame);
  }
  const sendMessage = (x) => tx(Object.assign({ type: "message", client_id: x.client_id, text: x.text },
    x.fields ? { fields: x.fields } : null));
  function flush() {
    if (!ready || paused) return;
    for (const x of outbox()) {
      addPending(x);
      sendMessage(x);
    }
  }
  function want() {
    wanted = true;
    if (booted) connect();
  }
  function connect() {
    if (ws || fatal || !booted) return;
    clearTimeout(retryTimer);
    let s;
    try { s = new WebSocket(WS); } catch (e) { lost(null); return; }
    ws = s;
    ready = false;
    s.onopen = () => {
      tx({ type: "hello", token: token || null, language: lang, after: maxId || null, page: location.href });
      clearInterval(pingTimer);
      pingTimer = setInterval(() => {
        if (!tx({ type: "ping" })) return;
        clearTimeout(pongTimer);
        // No pong in 10 s: the connection is dead even if the browser has not noticed yet.
        pongTimer = setTimeout(() => lost(s), 10000);
      }, 25000);
    };
    s.onmessage = (e) => {
      let f;
      try { f = JSON.parse(e.data); } catch (err) { return; }
      if (f && typeof f === "object") receive(f);
    };
    s.onclose = () => lost(s);
  }
  function lost(s) {
    if (s && s !== ws) return;
    if (s) {
      s.onclose = s.onmessage = s.onopen = null;
      try { s.close(); } catch (e) { /* already closed */ }
    }
    ws = null;
    ready = false;
    clearInterval(pingTimer);
    clearTimeout(pongTimer);
    typingOn = false;
    showTyping(false);
    if (fatal || !wanted) return setBanner();
    const delay = Math.min(30, Math.pow(2, attempts)) * 1000 * (0.8 + Math.random() * 0.4);
    attempts++;
    setBanner();
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, delay);
  }
  function reconnectNow() {
    if (!wanted || fatal || ws) return;
    clearTimeout(retryTimer);
    connect();
  }
  window.addEventListener("online", () => { setBanner(); reconnectNow(); });
  window.addEventListener("offline", setBanner);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") { reconnectNow(); seen(); }
  });

  function receive(f) {
    switch (f.type) {
      case "welcome": {
        if (f.token) {
          if (token && f.token !== token) clearLog();
          token = f.token;
          put(LS, "token", token);
        }
        visitor = Object.assign({}, visitor, f.visitor || {});
        conv = f.conversation || null;
        if (f.config) applyConfig(f.config);
        if (f.availability) setAvail(f.availability);
        for (const m of f.messages || []) show(m, false);
        if (f.marks) setMarks(f.marks);
        ready = welcomed = true;
        attempts = 0;
        setBanner();
        while (control.length) tx(control.shift());
        flush();
        while (tokenWaiters.length) tokenWaiters.shift()();
        scrollDown(true);
        afterBatch();
        break;
      }
      case "ack":
        if (f.message) show(f.message, true);
        else if (f.client_id) {
          dropOutbox(f.client_id);
          const p = pend.get(f.client_id);
          if (p) setState(p, "sent");
        }
        afterBatch();
        break;
      case "message":
        show(f.message, true);
        afterBatch();
        break;
      case "typing":
        showTyping(!!f.on, f.name);
        break;
      case "marks":
        setMarks(f);
        break;
      case "agent":
        if (f.name) showNote(t("nowWith", { name: f.name }), false, false);
        break;
      case "availability":
        setAvail(f);
        break;
      case "conversation":
        if (conv && f.id != null && conv.id !== f.id) { humanAt = -1; hasAgent = false; }
        conv = { id: f.id, status: f.status };
        if (f.status === "closed") showNote(t("ended"), false, true);
        refresh();
        break;
      case "error":
        onError(f);
        break;
      case "pong":
        clearTimeout(pongTimer);
        break;
    }
  }
  function onError(f) {
    const msg = f.message || "";
    const cid = f.client_id;
    switch (f.code) {
      case "rate_limited": {
        const s = Math.max(1, Math.ceil(+f.retry_after || 5));
        showNote(msg || t("rateLimited", { s }), true);
        pause(s);
        break;
      }
      case "too_long":
      case "empty":
      case "bad_frame": {
        const x = cid && dropOutbox(cid);
        const p = cid && pend.get(cid);
        if (p) { p.remove(); pend.delete(cid); }
        if (x && f.code === "too_long") {
          input.value = x.text + (input.value ? "\n" + input.value : "");
          onInput();
          if (x.fields) prechatDone = false;
        }
        if (f.code !== "empty") showNote(msg || (f.code === "too_long"
          ? t("tooLong", { n: x ? chars(x.text) : "?", max: limit("max_message_chars", 4000) }) : t("error")), true);
        refresh();
        if (f.code === "too_long") input.focus();
        break;
      }
      case "unknown_visitor":
        // The token is no longer known: start over as a new visitor; the outbox stays.
        token = null;
        put(LS, "token", null);
        clearLog();
        if (ws) { const s = ws; lost(s); }
        break;
      case "origin":
        fatal = true;
        showNote(msg || t("unavailable"), true, true);
        if (ws) lost(ws);
        break;
      default:
        showNote(msg || t("error"), true);
    }
  }
  function pause(seconds) {
    paused = true;
    clearTimeout(pauseTimer);
    pauseTimer = setTimeout(() => { paused = false; hideNote(); flush(); }, seconds * 1000);
  }
  let typingHide = 0;
  function showTyping(on, name) {
    clearTimeout(typingHide);
    typing.hidden = !on;
    if (on) {
      typing.textContent = t("typing", { name: name || t("someone") });
      typingHide = setTimeout(() => { typing.hidden = true; }, 6000);
    }
  }

  /* ------------------------------------------------------------ composing */
  function onInput() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 140) + "px";
    const n = chars(input.value);
    const max = limit("max_message_chars", 4000);
    count.hidden = n < max * 0.9;
    count.textContent = n + " / " + max;
    count.classList.toggle("mc-bad", n > max);
    if (!input.value.trim()) return typingOff();
    const now = Date.now();
    if (now - typingLast >= 2000 && ready && (conv || byId.size) && tx({ type: "typing", on: true })) {
      typingLast = now;
      typingOn = true;
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(typingOff, 3000);
  }
  function typingOff() {
    clearTimeout(typingIdle);
    if (typingOn) tx({ type: "typing", on: false });
    typingOn = false;
    typingLast = 0;
  }
  input.addEventListener("input", onInput);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  });

  // The pre-chat values to send with the first message, or null when the form is not acceptable.
  function firstFields() {
    if (!needPrechat()) return {};
    const v = checkPrechat();
    if (!v) return null;
    visitor = Object.assign({}, visitor, v);
    return { fields: v };
  }
  function submit() {
    const text = input.value.trim();
    if (!text) return input.focus();
    const max = limit("max_message_chars", 4000);
    if (chars(text) > max) {
      showNote(t("tooLong", { n: chars(text), max }), true);
      return input.focus();
    }
    const first = firstFields();
    if (!first) return;
    const fields = first.fields && Object.keys(first.fields).length ? first.fields : null;
    const x = Object.assign({ client_id: uid(), text }, fields ? { fields } : null);
    const a = outbox();
    a.push(x);
    saveOutbox(a);
    if (first.fields) prechatDone = true;
    input.value = "";
    onInput();
    typingOff();
    hideNote();
    addPending(x);
    scrollDown(true);
    refresh();
    if (ready && !paused) sendMessage(x);
    else want();
    input.focus();
  }

  fileInput.addEventListener("change", () => {
    const f = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (f) upload(f);
  });
  function upload(file, cid) {
    const max = limit("max_attachment_bytes", 10485760);
    if (file.size > max) return showNote(t("tooBig", { max: bytes(max) }), true);
    let fields = null;
    if (!cid) {
      const first = firstFields();
      if (!first) return;
      fields = first.fields;
      if (fields) {
        prechatDone = true;
        if (fields.name || fields.email) identify({ name: fields.name || "", email: fields.email || "" });
      }
      cid = uid();
    }
    uploads.set(cid, file);
    const el = addPending({ client_id: cid, text: "" }, file);
    scrollDown(true);
    refresh();
    const go = async () => {
      const form = new FormData();
      form.append("client_id", cid);
      form.append("text", "");
      for (const k in fields || {}) form.append(k, fields[k]);
      form.append("file", file, file.name);
      try {
        const j = await api("messages", { method: "POST", body: form });
        uploads.delete(cid);
        if (j.message) show(j.message, true);
        if (pend.get(cid) === el) { el.remove(); pend.delete(cid); }
        afterBatch();
      } catch (e) {
        if (e.status === 429) {
          setTimeout(go, Math.max(1, +e.retry || 5) * 1000);
          return showNote(e.message, true);
        }
        if (e.status >= 400 && e.status < 500) {
          el.remove();
          pend.delete(cid);
          uploads.delete(cid);
          refresh();
        } else {
          setState(el, "failed");
        }
        showNote(e.status ? e.message : t("uploadFailed"), true);
      }
    };
    if (token) go();
    else { tokenWaiters.push(go); want(); }
  }

  async function api(path, opts) {
    opts = Object.assign({ credentials: "omit", mode: "cors" }, opts);
    opts.headers = Object.assign({}, opts.headers, token ? { "X-Visitor-Token": token } : null);
    if (opts.json) {
      opts.body = JSON.stringify(opts.json);
      opts.headers["Content-Type"] = "application/json";
      delete opts.json;
    }
    let r;
    try {
      r = await fetch(HTTP + path, opts);
    } catch (e) {
      throw Object.assign(new Error(t("error")), { status: 0 });
    }
    let j = null;
    try { j = await r.json(); } catch (e) { /* empty body */ }
    if (!r.ok) {
      const err = (j && j.error) || {};
      throw Object.assign(new Error(err.message || t(r.status === 403 || r.status === 404 ? "unavailable" : "error")),
        { status: r.status, code: err.code, retry: err.retry_after || (j && j.retry_after) });
    }
    return j || {};
  }

  /* ------------------------------------------------ transcript, devices */
  const knownEmail = () => visitor.email || "";
  async function transcript() {
    if (!knownEmail()) return ask("transcript");
    try { await sendTranscript(knownEmail()); } catch (e) { showNote(e.message, true); }
  }
  async function sendTranscript(email) {
    const j = await api("transcript", { method: "POST", json: { email } });
    showNote(t("transcriptSent", { e: j.sent_to || email }));
  }
  function ask(kind) {
    sheetKind = kind;
    sheetLabel.textContent = t(kind === "magic" ? "magicAsk" : "transcriptAsk");
    sheetInput.value = knownEmail();
    fieldError(sheetInput, "");
    sheetErr.textContent = "";
    sheet.hidden = false;
    toggleEmoji(false);
    sheetInput.focus();
  }
  function closeSheet() {
    sheet.hidden = true;
    input.focus();
  }
  sheetInput.setAttribute("aria-describedby", "mc-sheet-err");
  async function sheetSubmit() {
    const email = sheetInput.value.trim();
    if (!EMAIL.test(email)) {
      sheetInput.setAttribute("aria-invalid", "true");
      sheetErr.textContent = t("badEmail");
      return sheetInput.focus();
    }
    sheetInput.setAttribute("aria-invalid", "false");
    try {
      if (sheetKind === "magic") {
        await api("magic-link", { method: "POST", json: { email } });
        showNote(t("magicSent", { e: email }));
      } else {
        await sendTranscript(email);
      }
      closeSheet();
    } catch (e) {
      sheetErr.textContent = e.message;
    }
  }
  function askHuman() {
    humanAt = deskMax;
    sendControl({ type: "human" });
    showNote(t("humanAsked"));
    refresh();
    input.focus();
  }

  function identify(p) {
    p = p || {};
    const name = typeof p.name === "string" ? p.name.trim().slice(0, 200) : visitor.name || "";
    const email = typeof p.email === "string" ? p.email.trim().slice(0, 320) : visitor.email || "";
    visitor = Object.assign({}, visitor, { name, email });
    for (const [k, v] of [["name", name], ["email", email]]) {
      const ctl = prechat.elements.namedItem(k);
      if (ctl && v && !ctl.value) ctl.value = v;
    }
    sendControl({ type: "identify", name, email });
    refresh();
  }

  /* ----------------------------------------------------------------- boot */
  async function continueFromLink() {
    const m = /(?:^#|&)mostrador-continue=([^&]*)/.exec(location.hash);
    if (!m) return false;
    const rest = location.hash.slice(1).split("&").filter((p) => !p.startsWith("mostrador-continue=")).join("&");
    try {
      history.replaceState(history.state, "", location.pathname + location.search + (rest ? "#" + rest : ""));
    } catch (e) { /* sandboxed frames */ }
    try {
      const j = await api("continue", { method: "POST", json: { link: decodeURIComponent(m[1]) } });
      if (j.visitor_token) {
        token = j.visitor_token;
        put(LS, "token", token);
        put(LS, "read", null);
        readUpTo = 0;
        showNote(t("continued"));
      }
    } catch (e) {
      showNote(e.message, true, true);
    }
    return true;
  }
  async function boot() {
    for (const x of outbox()) addPending(x);
    const fromLink = await continueFromLink();
    try {
      applyConfig(await api("config"));
    } catch (e) {
      if (e.status === 403 || e.status === 404) {
        fatal = true;
        showNote(e.message, true, true);
      }
    }
    booted = true;
    if (fromLink || script.getAttribute("data-open") === "true") open(true);
    else if (get(SS, "open")) open(false);
    if (token || pend.size) wanted = true;
    if (wanted) connect();
    refresh();
    badge();
  }

  window.MostradorChat = {
    open: () => open(true),
    close: () => close(true),
    identify,
  };

  const mount = () => {
    document.body.appendChild(host);
    boot();
  };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
