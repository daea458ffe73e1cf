/* Mock Vimeo clip page: player with a Player-API-like object (window.vimeoPlayer), a comments
   side panel loaded after the page, comments with id="comment_<id>", timecode links (#t=83s)
   and a "Copy link" action. */
(function () {
  "use strict";
  const SB = window.__SANDBOX__;
  const N = SB.names;
  const U = window.SandboxUtil;
  const el = U.el;

  const playerEl = document.getElementById(N.player_id);
  const video = playerEl.querySelector("video");
  const timeEl = playerEl.querySelector(".vp-time");
  const progress = playerEl.querySelector(".vp-progress");
  const playedEl = playerEl.querySelector(".vp-progress-played");
  let timecodeNow = null;
  U.attachPlayer(video, SB.duration, function (t) {
    timeEl.textContent = U.formatTime(t);
    progress.setAttribute("aria-valuenow", String(Math.floor(t)));
    playedEl.style.width = (100 * t / SB.duration) + "%";
    if (timecodeNow) timecodeNow.textContent = U.formatTime(t);
  });
  playerEl.querySelector(".vp-play").addEventListener("click", function () {
    if (video.paused) video.play(); else video.pause();
  });
  progress.addEventListener("click", function (event) {
    const box = progress.getBoundingClientRect();
    video.currentTime = SB.duration * (event.clientX - box.left) / box.width;
  });
  // Like @vimeo/player's Player: promise-based.
  window.vimeoPlayer = {
    getCurrentTime: () => Promise.resolve(video.currentTime),
    setCurrentTime: (t) => { video.currentTime = t; return Promise.resolve(video.currentTime); },
    getDuration: () => Promise.resolve(SB.duration),
    play: () => video.play(),
    pause: () => { video.pause(); return Promise.resolve(); },
  };
  U.seekFromHash(video);
  window.addEventListener("hashchange", function () { U.seekFromHash(video); });

  const toastEl = document.getElementById(N.toast_id);
  const listEl = document.getElementById(N.list_id);
  const panel = document.getElementById(N.panel_id);
  const countEl = panel.querySelector(".comment_count");
  let list = null;
  let count = 0;

  function timeLink(seconds) {
    const link = el("a", { class: N.timecode_class, href: "#t=" + seconds + "s" });
    link.addEventListener("click", function (event) {
      event.preventDefault();
      video.currentTime = seconds;
    });
    return link;
  }

  function renderComment(comment) {
    const body = el("div", { class: N.body_class });
    const hasCode = /(?<![\d:])(?:\d{1,2}:)?\d{1,2}:[0-5]\d(?![\d:])/.test(comment.text);
    if (comment.time !== null && !hasCode) {
      const badge = timeLink(Math.floor(comment.time));
      badge.textContent = U.formatTime(comment.time);
      badge.classList.add("comment_timecode");
      body.append(badge, " ");
    }
    body.appendChild(U.linkify(comment.text, timeLink));
    const copyAttrs = { class: N.copy_class, type: "button", "data-permalink": comment.permalink };
    if (!SB.roles) copyAttrs.role = "presentation";
    const copy = el(SB.roles ? "button" : "span", copyAttrs, [SB.roles ? "Copy link" : "⧉"]);
    copy.addEventListener("click", async function () {
      try { await navigator.clipboard.writeText(comment.permalink); } catch (error) { /* headless */ }
      copy.dataset.copied = "true";
      U.toast(toastEl, "Link copied");
    });
    const own = SB.viewer && comment.author === SB.viewer;
    const menu = own ? U.deleteMenu(DELETE_MENU, function () {
      return U.api("DELETE", SB.api + "/" + encodeURIComponent(comment.id));
    }, function () {
      if (item.isConnected) { item.remove(); setCount(count - 1); }
    }, toastEl) : null;
    const item = el("article", { id: N.comment_prefix + comment.id, class: N.comment_class, dataset: { commentId: comment.id, held: String(comment.held) } }, [
      el("img", { class: "comment_avatar", alt: comment.author, src: comment.avatar, width: 32, height: 32 }),
      el("div", { class: "comment_content" }, [
        el("header", {}, [
          el("a", { class: N.author_class, href: "/vimeo", text: comment.author }),
          " ",
          el("time", { datetime: new Date(comment.createdAt * 1000).toISOString(), text: comment.publishedText }),
        ]),
        body,
        comment.held ? el("span", { class: N.held_class, text: "Awaiting moderation" }) : null,
        el("div", { class: "comment_actions" }, [
          el("a", { class: N.permalink_class, href: "#" + N.comment_prefix + comment.id, text: "Link" }),
          " ",
          copy,
          menu ? " " : null,
          menu,
        ]),
      ]),
    ]);
    return item;
  }

  // One's own comment has a "More actions" menu: Delete → "Delete this comment?".
  const DELETE_MENU = {
    button: { attrs: { class: "comment_menu_button", "aria-label": "More actions" }, text: "⋯" },
    menu: { tag: "div", attrs: { class: "comment_menu" } },
    item: { attrs: { class: "comment_menu_delete" }, text: "Delete" },
    dialog: { tag: "div", attrs: { class: "modal confirm_modal" }, text: "Delete this comment? This can't be undone." },
    cancel: { attrs: { class: "confirm_cancel" }, text: "Cancel" },
    confirm: { attrs: { class: "confirm_delete" }, text: "Delete" },
  };

  function setCount(n) {
    count = n;
    countEl.textContent = "(" + n + ")";
  }

  function renderForm() {
    const form = el("form", { id: N.form_id, class: "comment_form" });
    let input;
    if (SB.roles) {
      input = el("textarea", { id: N.text_id, name: "text", rows: 3, "aria-label": "Add a new comment", placeholder: "Add a new comment" });
    } else {
      input = el("div", { id: N.text_id, contenteditable: "true", class: "comment_input" });
    }
    timecodeNow = el("span", { class: "timecode_now", text: U.formatTime(video.currentTime) });
    const toggle = el("input", { type: "checkbox", id: N.timecode_id, checked: true });
    const submit = SB.roles
      ? el("button", { type: "submit", id: N.submit_id, text: "Comment" })
      : el("span", { id: N.submit_id, class: "comment_send", text: "➤" });
    form.append(input, el("label", { class: "timecode_toggle" }, [toggle, " Add timecode ", timecodeNow]), submit);
    let busy = false;
    async function send(event) {
      if (event) event.preventDefault();
      const text = (SB.roles ? input.value : input.innerText).trim();
      if (!text || busy) return;
      busy = true;
      const result = await U.api("POST", SB.api, {
        text: text, playerTime: video.currentTime, timeCode: toggle.checked ? video.currentTime : null,
      });
      busy = false;
      if (result.ok) {
        list.appendChild(renderComment(result.data.comment));
        setCount(count + 1);
        if (SB.roles) input.value = ""; else input.textContent = "";
      } else {
        U.toast(toastEl, result.message);
      }
    }
    form.addEventListener("submit", send);
    if (!SB.roles) submit.addEventListener("click", send);
    return form;
  }

  async function load() {
    const result = await U.api("GET", SB.api);
    listEl.textContent = "";
    listEl.removeAttribute("aria-busy");
    if (!result.ok) {
      listEl.appendChild(el("p", { class: "comments_error", role: "alert", text: result.message }));
      return;
    }
    const data = result.data;
    if (data.disabled) {
      listEl.appendChild(el("p", { class: "comments_disabled", text: "Comments are disabled for this video." }));
      return;
    }
    list = el("div", { class: "comments" });
    for (const comment of data.comments) list.appendChild(renderComment(comment));
    listEl.appendChild(list);
    setCount(data.comments.length);
    if (SB.viewer) {
      listEl.appendChild(renderForm());
    } else {
      listEl.appendChild(el("p", { class: "comment_login" }, [
        el("a", { href: SB.loginUrl + "?continue=" + encodeURIComponent(location.pathname), text: "Log in" }),
        " to leave a comment.",
      ]));
    }
    panel.dataset.loaded = "true";
    const target = /^#(.+)$/.exec(location.hash);
    if (target && document.getElementById(target[1])) {
      const node = document.getElementById(target[1]);
      node.classList.add("highlighted");
      node.scrollIntoView();
    }
  }
  // The side panel fills in after the page, like the real one.
  window.addEventListener("load", function () { setTimeout(load, 50); });
})();
