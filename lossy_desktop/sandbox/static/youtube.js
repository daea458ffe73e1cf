/* Mock YouTube watch page: the movie_player API, comments that load only once the comments
   section is scrolled into view, the simplebox (placeholder -> contenteditable -> Comment). */
(function () {
  "use strict";
  const SB = window.__SANDBOX__;
  const N = SB.names;
  const U = window.SandboxUtil;
  const el = U.el;

  const playerEl = document.getElementById(N.player_id);
  const video = playerEl.querySelector("video");
  const current = playerEl.querySelector(".ytp-time-current");
  const progress = playerEl.querySelector(".ytp-progress-bar");
  const played = playerEl.querySelector(".ytp-play-progress");
  playerEl.querySelector(".ytp-time-duration").textContent = U.formatTime(SB.duration);
  U.attachPlayer(video, SB.duration, function (t) {
    current.textContent = U.formatTime(t);
    progress.setAttribute("aria-valuenow", String(Math.floor(t)));
    progress.setAttribute("aria-valuetext", U.formatTime(t) + " of " + U.formatTime(SB.duration));
    played.style.width = (100 * t / SB.duration) + "%";
  });
  U.seekFromHash(video);  // a watch?v=ID&t=83s address starts at 83 s, as on YouTube
  // The real player's JS API (document.getElementById("movie_player").seekTo(t, true)).
  playerEl.seekTo = function (seconds) { video.currentTime = seconds; };
  playerEl.getCurrentTime = function () { return video.currentTime; };
  playerEl.getDuration = function () { return SB.duration; };
  playerEl.playVideo = function () { video.play(); };
  playerEl.pauseVideo = function () { video.pause(); };
  playerEl.querySelector(".ytp-play-button").addEventListener("click", function () {
    if (video.paused) video.play(); else video.pause();
  });
  progress.addEventListener("click", function (event) {
    const box = progress.getBoundingClientRect();
    video.currentTime = SB.duration * (event.clientX - box.left) / box.width;
  });
  const params = new URLSearchParams(location.search);
  if (params.get("t")) video.currentTime = parseInt(params.get("t"), 10) || 0;

  const toastEl = document.getElementById(N.toast_id);
  const commentsEl = document.getElementById(N.comments_id);
  const sections = document.getElementById(N.sections_id);
  let contents = null;
  let countEl = null;
  let count = 0;

  function timeLink(seconds) {
    const link = el("a", {
      class: "yt-core-attributed-string__link",
      href: "/youtube/watch?v=" + encodeURIComponent(SB.videoId) + "&t=" + seconds + "s",
    });
    link.addEventListener("click", function (event) {
      event.preventDefault();
      video.currentTime = seconds;
      window.scrollTo(0, 0);
    });
    return link;
  }

  function renderThread(comment, highlighted) {
    const handle = "@" + comment.author;
    const body = el("span", { class: "yt-core-attributed-string" });
    body.appendChild(U.linkify(comment.text, timeLink));
    const header = el("div", { id: "header-author" }, [
      highlighted ? el("span", { id: "linked-comment-badge", text: "Highlighted comment" }) : null,
      el("a", { id: N.author_id, href: "/youtube/" + encodeURIComponent(handle) }, [el("span", { text: handle })]),
      el("span", { id: N.published_id }, [el("a", { href: comment.path, text: comment.publishedText })]),
    ]);
    const main = el("div", { id: "main" }, [
      header,
      el("yt-attributed-string", { id: N.content_id, class: "style-scope" }, [body]),
      comment.held
        ? el("span", { class: N.held_class, text: "Held for review. Only you can see this comment." })
        : null,
    ]);
    const view = el(N.comment_tag, { id: "comment", class: "style-scope" }, [
      el("div", { id: "author-thumbnail" }, [el("img", { alt: comment.author, src: comment.avatar, width: 40, height: 40 })]),
      main,
    ]);
    const thread = el(N.thread_tag, { class: "style-scope ytd-item-section-renderer", dataset: { commentId: comment.id, held: String(comment.held) } }, [view]);
    if (SB.viewer && comment.author === SB.viewer) view.appendChild(deleteMenu(comment, thread));
    return thread;
  }

  // The "⋮" action menu of one's own comment: Delete → "Delete your comment permanently?".
  const DELETE_MENU = {
    wrap: { tag: "ytd-menu-renderer", attrs: { id: "action-menu", class: "style-scope ytd-comment-view-model" } },
    button: { attrs: { id: "button", "aria-label": "Action menu" }, text: "⋮" },
    menu: { tag: "ytd-menu-popup-renderer", attrs: { class: "style-scope ytd-popup-container" } },
    item: { tag: "ytd-menu-service-item-renderer", attrs: { tabindex: "0" }, text: "Delete" },
    dialog: { tag: "yt-confirm-dialog-renderer", text: "Delete comment? Delete your comment permanently?" },
    cancel: { attrs: { id: "cancel-button", "aria-label": "Cancel" }, text: "Cancel" },
    confirm: { attrs: { id: "confirm-button", "aria-label": "Delete" }, text: "Delete" },
  };

  function deleteMenu(comment, thread) {
    return U.deleteMenu(DELETE_MENU, function () {
      return U.api("POST", SB.api + "/comment/delete_comment", { videoId: SB.videoId, commentId: comment.id });
    }, function () {
      if (thread.isConnected) { thread.remove(); setCount(count - 1); }
    }, toastEl);
  }

  function setCount(n) {
    count = n;
    if (countEl) countEl.textContent = n + (n === 1 ? " Comment" : " Comments");
  }

  function signInPrompt(anchor) {
    if (document.getElementById("sign-in-prompt")) return;
    const next = "/youtube/watch?v=" + encodeURIComponent(SB.videoId);
    anchor.after(el("div", { id: "sign-in-prompt", role: "dialog", "aria-label": "Sign in" }, [
      el("p", { text: "Want to join the conversation?" }),
      el("a", { href: SB.loginUrl + "?continue=" + encodeURIComponent(next), text: "Sign in" }),
    ]));
  }

  function openBox(simplebox, placeholder) {
    if (!SB.viewer) return signInPrompt(simplebox);
    placeholder.hidden = true;
    const editorAttrs = { id: N.editor_id, contenteditable: "true", "data-placeholder": "Add a comment…", class: "style-scope yt-formatted-string" };
    if (SB.roles) Object.assign(editorAttrs, { role: "textbox", "aria-label": "Add a comment…", "aria-multiline": "true" });
    const editor = el("div", editorAttrs);
    const submitInner = SB.roles
      ? el("button", { "aria-label": "Comment", disabled: true, text: "Comment" })
      : el("span", { class: "send-glyph", text: "➤" });
    const submit = el("ytd-button-renderer", { id: N.submit_id }, [submitInner]);
    const cancel = el("ytd-button-renderer", { id: N.cancel_id }, [
      SB.roles ? el("button", { "aria-label": "Cancel", text: "Cancel" }) : el("span", { text: "✕" }),
    ]);
    const box = el("ytd-commentbox", { id: "commentbox" }, [editor, el("div", { id: "footer" }, [el("div", { id: "buttons" }, [cancel, submit])])]);
    simplebox.appendChild(box);
    editor.focus();
    let busy = false;
    function refresh() {
      if (SB.roles) submitInner.disabled = busy || editor.innerText.trim() === "";
    }
    editor.addEventListener("input", refresh);
    async function send() {
      const text = editor.innerText.trim();
      if (!text || busy) return;
      busy = true;
      refresh();
      const result = await U.api("POST", SB.api + "/comment/create_comment", {
        videoId: SB.videoId, commentText: text, playerTime: video.currentTime,
      });
      busy = false;
      if (result.ok) {
        const comment = result.data.comment;
        contents.prepend(renderThread(comment, false));
        setCount(count + 1);
        box.remove();
        placeholder.hidden = false;
      } else {
        U.toast(toastEl, result.message);
        refresh();
      }
    }
    submit.addEventListener("click", send);
    editor.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        send();
      }
    });
    cancel.addEventListener("click", function () {
      box.remove();
      placeholder.hidden = false;
    });
  }

  async function load() {
    const result = await U.api("GET", SB.api + "/next?videoId=" + encodeURIComponent(SB.videoId));
    sections.textContent = "";
    if (!result.ok) {
      sections.appendChild(el(N.message_tag, { role: "alert" }, [el("span", { id: "message-text", text: result.message })]));
      if (result.code !== "comments_disabled") {
        const retry = el("button", { id: "retry-comments", text: "Retry" });
        retry.addEventListener("click", function () { retry.remove(); load(); });
        sections.appendChild(retry);
      }
      return;
    }
    const data = result.data;
    if (data.disabled) {
      sections.appendChild(el(N.message_tag, { id: "message", class: "style-scope ytd-item-section-renderer" }, [
        el("span", { id: "message-text" }, ["Comments are turned off. ", el("a", { href: "/youtube", text: "Learn more" })]),
      ]));
      return;
    }
    countEl = el("span", { id: N.count_id });
    const placeholderAttrs = { id: N.placeholder_area_id, tabindex: "0" };
    if (SB.roles) Object.assign(placeholderAttrs, { role: "button", "aria-label": "Add a comment…" });
    const placeholder = el("div", placeholderAttrs, [
      el("yt-formatted-string", { id: N.simplebox_placeholder_id, text: "Add a comment…" }),
    ]);
    const simplebox = el(N.simplebox_tag, { id: "simple-box", class: "style-scope ytd-comments-header-renderer" }, [
      el("img", { id: "author-thumbnail", alt: SB.viewer || "", src: SB.avatar || "", width: 40, height: 40, hidden: !SB.viewer }),
      placeholder,
    ]);
    placeholder.addEventListener("click", function () { openBox(simplebox, placeholder); });
    placeholder.addEventListener("keydown", function (event) {
      if (event.key === "Enter") openBox(simplebox, placeholder);
    });
    sections.appendChild(el(N.header_tag, { id: "header" }, [el("h2", { id: "title" }, [countEl]), simplebox]));
    contents = el("div", { id: N.contents_id, class: "style-scope ytd-item-section-renderer" });
    sections.appendChild(contents);
    const list = data.comments.slice().reverse();
    const first = SB.highlight ? list.findIndex((c) => c.id === SB.highlight) : -1;
    if (first >= 0) contents.appendChild(renderThread(list.splice(first, 1)[0], true));
    for (const comment of list) contents.appendChild(renderThread(comment, false));
    setCount(data.comments.length);
    commentsEl.dataset.loaded = "true";
  }

  const observer = new IntersectionObserver(function (entries) {
    if (entries.some((entry) => entry.isIntersecting)) {
      observer.disconnect();
      load();
    }
  });
  observer.observe(commentsEl);
})();
