/* Mock Air asset page: a video asset whose comments are tied to a time in the video. Selectors
   are data-testid based (Air's real ones are not public). */
(function () {
  "use strict";
  const SB = window.__SANDBOX__;
  const N = SB.names;
  const U = window.SandboxUtil;
  const el = U.el;
  const byTestId = (id) => document.querySelector('[data-testid="' + id + '"]');

  const video = byTestId(N.video);
  const scrubber = byTestId("asset-scrubber");
  const timeEl = byTestId("asset-time");
  let toggleTime = null;
  U.attachPlayer(video, SB.duration, function (t) {
    timeEl.textContent = U.formatTime(t);
    scrubber.value = String(t);
    if (toggleTime) toggleTime.textContent = U.formatTime(t);
  });
  scrubber.addEventListener("input", function () { video.currentTime = Number(scrubber.value); });
  byTestId("asset-play").addEventListener("click", function () {
    if (video.paused) video.play(); else video.pause();
  });
  U.seekFromHash(video);

  const toastEl = byTestId(N.toast);
  const panel = byTestId(N.panel);
  const listHost = byTestId(N.list);
  let list = null;

  function seekLink(seconds) {
    const link = el("a", { href: "#t=" + seconds + "s", class: "air-timecode" });
    link.addEventListener("click", function (event) {
      event.preventDefault();
      video.currentTime = seconds;
    });
    return link;
  }

  function renderComment(comment, highlighted) {
    const stamp = comment.time === null ? null : el(SB.roles ? "button" : "span", {
      "data-testid": N.timestamp, "data-seconds": String(comment.time), type: "button",
      "aria-label": SB.roles ? "Go to " + U.formatTime(comment.time) : null,
      text: U.formatTime(comment.time),
    });
    if (stamp) stamp.addEventListener("click", function () { video.currentTime = comment.time; });
    const copy = el(SB.roles ? "button" : "span", {
      "data-testid": N.copy, "data-href": comment.permalink, type: "button",
      "aria-label": SB.roles ? "Copy link" : null, text: SB.roles ? "Copy link" : "⧉",
    });
    copy.addEventListener("click", async function () {
      try { await navigator.clipboard.writeText(comment.permalink); } catch (error) { /* headless */ }
      copy.dataset.copied = "true";
      U.toast(toastEl, "Link copied to clipboard");
    });
    const body = el("p", { "data-testid": N.body });
    body.appendChild(U.linkify(comment.text, seekLink));
    const own = SB.viewer && comment.author === SB.viewer;
    const menu = own ? U.deleteMenu(DELETE_MENU, function () {
      return U.api("DELETE", SB.api + "/" + encodeURIComponent(comment.id));
    }, function () {
      if (item.isConnected) item.remove();
    }, toastEl) : null;
    const item = el("div", {
      "data-testid": N.comment, id: N.comment_prefix + comment.id, "data-comment-id": comment.id,
      "data-held": String(comment.held),
      class: highlighted ? "air-comment highlighted" : "air-comment",
    }, [
      el("div", { class: "air-comment-head" }, [
        el("img", { alt: comment.author, src: comment.avatar, width: 24, height: 24 }),
        el("span", { "data-testid": N.author, text: comment.author }),
        el("span", { class: "air-comment-when", text: comment.publishedText }),
        stamp,
      ]),
      body,
      comment.held ? el("span", { "data-testid": N.held, text: "Pending approval" }) : null,
      el("div", { class: "air-comment-actions" }, [copy, menu]),
    ]);
    return item;
  }

  // One's own comment has an options menu: "Delete comment" → "Delete this comment?".
  const DELETE_MENU = {
    button: { attrs: { "data-testid": "comment-menu", "aria-label": "Comment options" }, text: "⋯" },
    menu: { tag: "div", attrs: { "data-testid": "comment-menu-list" } },
    item: { attrs: { "data-testid": "comment-menu-delete" }, text: "Delete comment" },
    dialog: { tag: "div", attrs: { "data-testid": "confirm-dialog" }, text: "Delete this comment? This can't be undone." },
    cancel: { attrs: { "data-testid": "confirm-cancel" }, text: "Cancel" },
    confirm: { attrs: { "data-testid": "confirm-delete" }, text: "Delete" },
  };

  function renderForm() {
    const inputAttrs = { "data-testid": N.input, rows: 2 };
    if (SB.roles) Object.assign(inputAttrs, { "aria-label": "Add a comment", placeholder: "Add a comment…" });
    const input = SB.roles ? el("textarea", inputAttrs) : el("div", Object.assign(inputAttrs, { contenteditable: "true" }));
    toggleTime = el("span", { text: U.formatTime(video.currentTime) });
    let stamped = true;
    const toggleAttrs = { "data-testid": N.toggle, type: "button" };
    if (SB.roles) Object.assign(toggleAttrs, { role: "checkbox", "aria-checked": "true", "aria-label": "Attach timestamp" });
    const toggle = el("button", toggleAttrs, ["⏱ ", toggleTime]);
    toggle.addEventListener("click", function () {
      stamped = !stamped;
      if (SB.roles) toggle.setAttribute("aria-checked", String(stamped));
      toggle.classList.toggle("off", !stamped);
    });
    const submit = SB.roles
      ? el("button", { "data-testid": N.submit, type: "submit", "aria-label": "Send comment", text: "Send" })
      : el("span", { "data-testid": N.submit, text: "➤" });
    const form = el("form", { class: "air-comment-form" }, [input, el("div", {}, [toggle, submit])]);
    let busy = false;
    async function send(event) {
      if (event) event.preventDefault();
      const text = (SB.roles ? input.value : input.innerText).trim();
      if (!text || busy) return;
      busy = true;
      const result = await U.api("POST", SB.api, {
        text: text, playerTime: video.currentTime, timeCode: stamped ? video.currentTime : null,
      });
      busy = false;
      if (result.ok) {
        list.appendChild(renderComment(result.data.comment, false));
        if (SB.roles) input.value = ""; else input.textContent = "";
      } else {
        U.toast(toastEl, result.message);
      }
    }
    form.addEventListener("submit", send);
    if (!SB.roles) submit.addEventListener("click", send);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) send(event);
    });
    return form;
  }

  async function load() {
    const result = await U.api("GET", SB.api);
    listHost.textContent = "";
    listHost.removeAttribute("aria-busy");
    if (!result.ok) {
      listHost.appendChild(el("p", { role: "alert", text: result.message }));
      return;
    }
    const data = result.data;
    if (data.disabled) {
      listHost.appendChild(el("p", { "data-testid": N.disabled, text: "Comments are turned off for this asset." }));
      return;
    }
    list = el("div", { class: "air-comment-list" });
    for (const comment of data.comments) list.appendChild(renderComment(comment, comment.id === SB.highlight));
    listHost.appendChild(list);
    if (SB.viewer) {
      listHost.appendChild(renderForm());
    } else {
      listHost.appendChild(el("p", {}, [el("a", { href: SB.loginUrl, text: "Sign in" }), " to comment."]));
    }
    panel.dataset.loaded = "true";
    if (SB.highlight) {
      const node = document.getElementById(N.comment_prefix + SB.highlight);
      if (node) node.scrollIntoView();
    }
  }
  window.addEventListener("load", function () { setTimeout(load, 50); });
})();
