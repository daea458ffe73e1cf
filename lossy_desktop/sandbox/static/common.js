/* Shared helpers of the sandbox pages: a scripted player behind a real <video> element, timecode
   links, toasts and JSON fetches. No framework; runs in any Chromium. */
(function () {
  "use strict";

  function formatTime(seconds) {
    seconds = Math.max(0, Math.floor(seconds || 0));
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    const ss = String(s).padStart(2, "0");
    return h > 0 ? h + ":" + String(m).padStart(2, "0") + ":" + ss : m + ":" + ss;
  }

  /* The <video> has no media file: its currentTime, duration, paused, play() and pause() are
     replaced by a clock of our own, so `video.currentTime = 83` seeks exactly as on a real page,
     and the page (and the agent) can read the time back. */
  function attachPlayer(video, duration, onUpdate) {
    let position = 0;
    let playingSince = null;
    function now() {
      if (playingSince === null) return position;
      const t = position + (performance.now() - playingSince) / 1000;
      if (t >= duration) {
        position = duration;
        playingSince = null;
        return duration;
      }
      return t;
    }
    function fire(name) {
      video.dispatchEvent(new Event(name));
      if (onUpdate) onUpdate(now());
    }
    Object.defineProperty(video, "currentTime", {
      configurable: true,
      get: now,
      set: function (value) {
        const t = Number(value);
        if (!Number.isFinite(t)) throw new TypeError("currentTime must be a finite number");
        position = Math.min(Math.max(0, t), duration);
        if (playingSince !== null) playingSince = performance.now();
        fire("seeking");
        fire("seeked");
        fire("timeupdate");
      },
    });
    Object.defineProperty(video, "duration", { configurable: true, get: () => duration });
    Object.defineProperty(video, "paused", { configurable: true, get: () => playingSince === null });
    Object.defineProperty(video, "readyState", { configurable: true, get: () => 4 });
    video.play = function () {
      if (playingSince === null) {
        playingSince = performance.now();
        fire("play");
        fire("playing");
      }
      return Promise.resolve();
    };
    video.pause = function () {
      if (playingSince !== null) {
        position = now();
        playingSince = null;
        fire("pause");
      }
    };
    setInterval(function () {
      if (playingSince !== null) fire("timeupdate");
    }, 250);
    if (onUpdate) onUpdate(0);
    return video;
  }

  const TIMECODE = /(?<![\d:])(?:(\d{1,2}):)?(\d{1,2}):([0-5]\d)(?![\d:])/g;

  /* Text to a fragment of text nodes and <a> links for each M:SS / H:MM:SS timecode. */
  function linkify(text, makeLink) {
    const fragment = document.createDocumentFragment();
    let last = 0;
    TIMECODE.lastIndex = 0;
    let match;
    while ((match = TIMECODE.exec(text)) !== null) {
      const hours = match[1] ? Number(match[1]) : 0;
      const minutes = Number(match[2]);
      if (match[1] && minutes > 59) continue;
      const seconds = hours * 3600 + minutes * 60 + Number(match[3]);
      if (match.index > last) fragment.appendChild(document.createTextNode(text.slice(last, match.index)));
      const link = makeLink(seconds, match[0]);
      link.textContent = match[0];
      link.dataset.seconds = String(seconds);
      fragment.appendChild(link);
      last = match.index + match[0].length;
    }
    if (last < text.length) fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  async function api(method, url, body) {
    const options = { method: method, credentials: "same-origin", headers: {} };
    const view = window.__SANDBOX__ && window.__SANDBOX__.view;
    if (view) options.headers["X-Sandbox-View"] = view;
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, options);
    } catch (error) {
      return { ok: false, status: 0, code: "network_error",
               message: "Couldn't reach the server. Check your connection and try again." };
    }
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
    if (response.ok && data) return { ok: true, status: response.status, data: data };
    const err = (data && data.error) || {};
    return {
      ok: false,
      status: response.status,
      code: err.code || "server_error",
      message: err.message || "Something went wrong. Please try again later.",
      data: data,
    };
  }

  function toast(element, message) {
    if (!element) return;
    const text = element.querySelector("#text") || element;
    text.textContent = message;
    element.hidden = false;
    element.dataset.shownAt = String(Date.now());
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children || []) {
      if (child !== null && child !== undefined) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function seekFromHash(video) {
    // Vimeo and Air: #t=83s; YouTube: ?t=83s (or &t=83) in the query, as on the real sites.
    const m = /^#t=(\d+(?:\.\d+)?)s?$/.exec(location.hash);
    const q = /^(\d+(?:\.\d+)?)s?$/.exec(new URLSearchParams(location.search).get("t") || "");
    if (m) video.currentTime = Number(m[1]);
    else if (q) video.currentTime = Number(q[1]);
  }

  /* The menu on the viewer's own comment: its button opens a menu with a Delete item, which asks
     for confirmation in a dialog, then sends `request()`; `remove()` takes the comment off the
     page once the platform answered (a comment already gone counts as deleted). `spec` names
     each platform's markup: {wrap?, button, menu, item, dialog, confirm, cancel}, each
     {tag?, attrs?, text?}. */
  function deleteMenu(spec, request, remove, toastEl) {
    function make(part, extra, children) {
      const attrs = Object.assign({}, extra || {}, part.attrs || {});
      return el(part.tag || "button", attrs, children || (part.text ? [part.text] : []));
    }
    const roles = !(window.__SANDBOX__ && window.__SANDBOX__.roles === false);
    const button = make(spec.button, { type: "button" });
    button.addEventListener("click", function (event) {
      event.preventDefault();
      event.stopPropagation();
      document.querySelectorAll("[data-sandbox-menu]").forEach((m) => m.remove());
      const item = make(spec.item, { type: "button", role: roles ? "menuitem" : null });
      const menu = make(spec.menu, { role: roles ? "menu" : null, "data-sandbox-menu": true }, [item]);
      document.body.appendChild(menu);
      item.addEventListener("click", function () {
        menu.remove();
        const cancel = make(spec.cancel, { type: "button" });
        const confirm = make(spec.confirm, { type: "button" });
        const dialog = make(spec.dialog, { role: roles ? "dialog" : null, "aria-modal": "true", "data-sandbox-dialog": true },
          [el("p", { text: spec.dialog.text }), cancel, confirm]);
        document.body.appendChild(dialog);
        cancel.addEventListener("click", function () { dialog.remove(); });
        confirm.addEventListener("click", async function () {
          confirm.disabled = true;
          const result = await request();
          dialog.remove();
          if (result.ok || result.status === 404) remove();
          else toast(toastEl, result.message);
        });
      });
    });
    return spec.wrap ? make(spec.wrap, {}, [button]) : button;
  }

  window.SandboxUtil = { formatTime, attachPlayer, linkify, api, toast, el, seekFromHash, deleteMenu };
})();
