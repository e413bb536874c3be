// The Switchboard demo page: a small Slack client for the loopback workspace. Everything a
// person does goes to /api/* (the emulator sends the bot what Slack would send); the page
// re-reads /api/state whenever the server-sent events say something changed.
"use strict";

const EMOJI = {
  pushpin: "📌", white_check_mark: "✅", eyes: "👀", "+1": "👍", fire: "🔥", rotating_light: "🚨",
  warning: "⚠️", x: "❌", tada: "🎉", memo: "📝", bell: "🔔", red_circle: "🔴",
  large_green_circle: "🟢", hourglass: "⌛", information_source: "ℹ️",
};
const PICKER = ["pushpin", "eyes", "+1", "white_check_mark", "fire"];
const params = new URLSearchParams(location.search);
const ui = { user: params.get("as") || "", channel: params.get("channel") || "", thread: "", data: null };
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "html") node.innerHTML = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}
const emoji = (name) => EMOJI[name] || `:${name}:`;
const escapeHtml = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

// mrkdwn: Slack-escaped text (&amp; &lt; &gt;) with <...> tokens for links and mentions.
function mrkdwn(text) {
  const users = ui.data ? ui.data.users : {};
  const names = Object.fromEntries((ui.data ? ui.data.channels : []).map((c) => [c.id, c.name]));
  const safe = (s) => s.replace(/&(?!amp;|lt;|gt;)/g, "&amp;").replace(/"/g, "&quot;");
  let html = text.split(/(<[^<>]*>)/).map((part) => {
    const token = part.match(/^<([^<>]*)>$/);
    if (!token) return safe(part);
    const [target, label] = token[1].split("|", 2);
    if (target.startsWith("@")) {
      const id = target.slice(1);
      return `<span class="mention">@${escapeHtml(label || (users[id] ? users[id].name : id))}</span>`;
    }
    if (target.startsWith("#")) {
      const id = target.slice(1);
      return `<span class="mention">#${escapeHtml(label || names[id] || id)}</span>`;
    }
    if (target.startsWith("!date^")) {
      const at = new Date(parseInt(target.split("^")[1], 10) * 1000);
      return escapeHtml(at.toLocaleString([], { dateStyle: "medium", timeStyle: "short" }));
    }
    if (target.startsWith("!subteam^")) {
      const handle = (ui.data ? ui.data.usergroups : {})[target.slice(9)];
      return `<span class="mention">${escapeHtml(label || (handle ? `@${handle}` : "@team"))}</span>`;
    }
    if (target.startsWith("!")) return `<span class="mention">@${escapeHtml(target.slice(1))}</span>`;
    const href = /^(https?|mailto):/.test(target) ? target : "#";
    return `<a href="${safe(href)}" target="_blank" rel="noopener">${safe(label || target)}</a>`;
  }).join("");
  html = html.replace(/```([\s\S]*?)```/g, (m, code) => `<pre class="mrkdwn-pre">${code}</pre>`);
  html = html.replace(/`([^`\n]+)`/g, "<code>$1</code>");
  html = html.replace(/(^|[\s(>])\*([^*\n]+)\*/g, "$1<b>$2</b>");
  html = html.replace(/(^|[\s(>])_([^_\n]+)_/g, "$1<i>$2</i>");
  html = html.replace(/(^|[\s(>])~([^~\n]+)~/g, "$1<s>$2</s>");
  html = html.replace(/:([a-z0-9_+-]+):/g, (m, name) => (EMOJI[name] ? EMOJI[name] : m));
  html = html.split("\n").map((line) => (line.startsWith("&gt; ") ? `<blockquote>${line.slice(5)}</blockquote>` : line)).join("\n");
  return html.replace(/\n/g, "<br>");
}
const textObject = (t) => (!t ? "" : t.type === "mrkdwn" ? mrkdwn(t.text) : escapeHtml(t.text));

// ---- Block Kit ----

function renderBlocks(blocks, ctx) {
  return el("div", { class: "blocks" }, (blocks || []).map((b) => renderBlock(b, ctx)));
}

function renderBlock(block, ctx) {
  const kind = block.type;
  const attrs = { class: `block block-${kind}`, "data-block-id": block.block_id || "" };
  if (kind === "header") return el("div", attrs, el("span", { html: textObject(block.text) }));
  if (kind === "divider") return el("hr", attrs);
  if (kind === "image") {
    return el("figure", attrs, block.title ? el("figcaption", { html: textObject(block.title) }) : null,
      el("img", { src: block.image_url, alt: block.alt_text }));
  }
  if (kind === "context") {
    return el("div", attrs, block.elements.map((e) => (e.type === "image"
      ? el("img", { src: e.image_url, alt: e.alt_text }) : el("span", { html: textObject(e) }))));
  }
  if (kind === "section") {
    const body = el("div", { class: "body" }, block.text ? el("div", { class: "text", html: textObject(block.text) }) : null,
      block.fields ? el("div", { class: "fields" }, block.fields.map((f) => el("div", { class: "field", html: textObject(f) }))) : null);
    return el("div", attrs, body, block.accessory ? el("div", { class: "accessory" }, renderElement(block.accessory, block, ctx, true)) : null);
  }
  if (kind === "actions") return el("div", attrs, block.elements.map((e) => renderElement(e, block, ctx, true)));
  if (kind === "input") {
    const error = (ctx.errors || {})[block.block_id];
    return el("div", { ...attrs, class: `${attrs.class}${error ? " has-error" : ""}`, "data-required": !block.optional },
      el("label", {}, block.label.text, block.optional ? el("span", { class: "optional" }, " (optional)") : null),
      renderElement(block.element, block, ctx, Boolean(block.dispatch_action)),
      block.hint ? el("div", { class: "hint" }, block.hint.text) : null,
      error ? el("div", { class: "field-error", role: "alert" }, error) : null);
  }
  if (kind === "rich_text") return el("div", attrs, JSON.stringify(block.elements));
  return el("div", { ...attrs, class: "block block-unknown" }, `[${kind}]`);
}

const optionText = (o) => (o.text ? o.text.text : o.value);

// An element; `live` ones send block_actions when used (buttons, selects in messages).
function renderElement(element, block, ctx, live) {
  const base = { "data-action-id": element.action_id || "", "data-type": element.type, "data-block-id": block.block_id || "" };
  const fire = (action) => sendAction(ctx, { ...action, action_id: element.action_id, block_id: block.block_id || "", type: element.type });
  const placeholder = element.placeholder ? element.placeholder.text : "";
  switch (element.type) {
    case "button":
      return el("button", { ...base, type: "button", class: `bk-button ${element.style || ""}`,
        onclick: () => confirmThen(element.confirm, () => {
          if (element.url) window.open(element.url, "_blank");
          fire({ value: element.value, text: element.text });
        }) }, element.text.text);
    case "static_select":
    case "users_select": {
      const options = element.type === "users_select"
        ? Object.entries(ui.data.users).filter(([id]) => id !== ui.data.bot.id).map(([id, u]) => ({ value: id, text: { type: "plain_text", text: u.real_name } }))
        : element.options || (element.option_groups || []).flatMap((g) => g.options);
      const initial = element.initial_option ? element.initial_option.value : element.initial_user || "";
      const select = el("select", { ...base, class: "bk-select", "aria-label": placeholder },
        el("option", { value: "" }, placeholder || "Select"),
        options.map((o) => el("option", { value: o.value, selected: o.value === initial }, optionText(o))));
      select.slackOptions = options;
      if (live) {
        select.addEventListener("change", () => {
          const chosen = options.find((o) => o.value === select.value);
          fire(element.type === "users_select" ? { selected_user: select.value } : { selected_option: chosen });
        });
      }
      return select;
    }
    case "external_select":
    case "multi_external_select": return externalSelect(element, block, ctx, base, placeholder);
    case "checkboxes":
    case "radio_buttons": {
      const initial = (element.initial_options || (element.initial_option ? [element.initial_option] : [])).map((o) => o.value);
      const box = el("div", { ...base, class: "choices" });
      box.slackOptions = element.options;
      for (const o of element.options) {
        box.append(el("label", {}, el("input", { type: element.type === "checkboxes" ? "checkbox" : "radio",
          name: `${block.block_id}-${element.action_id}`, value: o.value, checked: initial.includes(o.value) }), " ", el("span", { html: textObject(o.text) })));
      }
      return box;
    }
    case "plain_text_input": {
      const attrs = { ...base, class: "bk-input", placeholder, "aria-label": placeholder || block.block_id };
      const input = element.multiline ? el("textarea", { ...attrs, rows: 3 }) : el("input", attrs);
      input.value = element.initial_value || "";
      return input;
    }
    case "datepicker": return el("input", { ...base, type: "date", class: "bk-input", value: element.initial_date || "" });
    case "timepicker": return el("input", { ...base, type: "time", class: "bk-input", value: element.initial_time || "" });
    case "overflow":
      return el("span", {}, element.options.map((o) => el("button", { type: "button", class: "bk-button", onclick: () => fire({ selected_option: o }) }, optionText(o))));
    case "image": return el("img", { src: element.image_url, alt: element.alt_text, class: "accessory-image", width: 64 });
    default: return el("span", { class: "bk-unknown" }, `[${element.type}]`);
  }
}

// Typing asks the bot for options (a signed block_suggestion, through the emulator).
function externalSelect(element, block, ctx, base, placeholder) {
  const multi = element.type === "multi_external_select";
  const box = el("div", { ...base, class: "external" });
  box.chosen = [...(element.initial_options || (element.initial_option ? [element.initial_option] : []))];
  const chips = el("div", { class: "chips" });
  const found = el("div", { class: "suggestions" });
  const showChosen = () => chips.replaceChildren(...box.chosen.map((o) => el("span", { class: "chip" }, optionText(o),
    el("button", { type: "button", "aria-label": "remove", onclick: () => { box.chosen = box.chosen.filter((c) => c !== o); showChosen(); } }, "×"))));
  const search = el("input", { class: "bk-input", type: "search", placeholder: placeholder || "Type to search", "aria-label": placeholder || "search" });
  let asked = 0;
  search.addEventListener("input", async () => {
    const mine = ++asked;
    const answer = await api("suggest", { view_id: ctx.source.view_id, values: collectValues($("modal")),
      action: { action_id: element.action_id, block_id: block.block_id, value: search.value } });
    if (mine !== asked || !answer) return;
    found.replaceChildren(...answer.result.map((o) => el("button", { type: "button", onclick: () => {
      box.chosen = multi ? [...box.chosen.filter((c) => c.value !== o.value), o] : [o];
      showChosen(); found.replaceChildren(); search.value = "";
    } }, optionText(o))));
  });
  showChosen();
  box.append(chips, search, found);
  return box;
}

// view.state.values as Slack sends them: block_id -> action_id -> value object.
function collectValues(root) {
  const values = {};
  if (!root) return values;
  for (const node of root.querySelectorAll("[data-type]")) {
    const type = node.dataset.type, blockId = node.dataset.blockId, actionId = node.dataset.actionId;
    let value = null;
    if (type === "plain_text_input") value = { value: node.value || null };
    else if (type === "static_select") {
      const o = (node.slackOptions || []).find((x) => x.value === node.value);
      value = { selected_option: o || null };
    } else if (type === "users_select") value = { selected_user: node.value || null };
    else if (type === "external_select") value = { selected_option: node.chosen[0] || null };
    else if (type === "multi_external_select") value = { selected_options: node.chosen };
    else if (type === "checkboxes") {
      const checked = [...node.querySelectorAll("input:checked")].map((i) => i.value);
      value = { selected_options: node.slackOptions.filter((o) => checked.includes(o.value)) };
    } else if (type === "radio_buttons") {
      const checked = node.querySelector("input:checked");
      value = { selected_option: checked ? node.slackOptions.find((o) => o.value === checked.value) : null };
    } else if (type === "datepicker") value = { selected_date: node.value || null };
    else if (type === "timepicker") value = { selected_time: node.value || null };
    else continue;
    (values[blockId] = values[blockId] || {})[actionId] = { type, ...value };
  }
  return values;
}

function confirmThen(confirm, go) {
  if (!confirm) return go();
  const box = $("confirm");
  const close = () => { $("confirm-backdrop").hidden = true; };
  box.replaceChildren(el("h2", {}, confirm.title ? confirm.title.text : "Are you sure?"),
    el("p", { html: textObject(confirm.text) }),
    el("div", { class: "modal-footer" },
      el("button", { type: "button", class: "bk-button", onclick: close }, confirm.deny ? confirm.deny.text : "Cancel"),
      el("button", { type: "button", class: "bk-button primary", onclick: () => { close(); go(); } }, confirm.confirm ? confirm.confirm.text : "Yes")));
  $("confirm-backdrop").hidden = false;
}

function sendAction(ctx, action) {
  if (ctx.source.kind === "view" && ctx.source.modal && !["button", "overflow"].includes(action.type)) return; // kept in state
  const values = ctx.source.kind === "view" ? collectValues(ctx.source.modal ? $("modal") : $("home")) : {};
  api("action", { source: ctx.source, action, values });
}

// ---- talking to the emulator ----

async function api(name, body) {
  const response = await fetch(`/api/${name}`, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: ui.user, ...body }) });
  const answer = await response.json();
  if (!answer.ok) { toast(answer.error); return null; }
  load();
  return answer;
}

function toast(text) {
  const box = $("toast");
  box.textContent = text; box.hidden = false;
  clearTimeout(toast.timer); toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

let loading = null, again = false;
async function load() {
  if (loading) { again = true; return loading; }
  loading = (async () => {
    const query = new URLSearchParams({ user: ui.user, channel: ui.channel === "home" ? "" : ui.channel });
    ui.data = await (await fetch(`/api/state?${query}`)).json();
    render();
  })();
  try { await loading; } finally { loading = null; }
  if (again) { again = false; await load(); }
}

// ---- rendering the page ----

function render() {
  const data = ui.data;
  $("team").textContent = data.team;
  const people = Object.entries(data.users).filter(([id]) => id !== data.bot.id);
  if (!ui.user && people.length) ui.user = people[0][0];
  const as = $("as");
  if (as.options.length !== people.length) {
    as.replaceChildren(...people.map(([id, u]) => el("option", { value: id }, `${u.real_name} (@${u.name})`)));
  }
  as.value = ui.user;
  const channels = data.channels.filter((c) => !c.is_im);
  if (!ui.channel) ui.channel = (channels.find((c) => c.name === "general") || channels[0] || {}).id || "";
  const item = (c, label) => el("li", {}, el("button", { type: "button", "data-channel": c.name, class: c.id === ui.channel ? "current" : "", onclick: () => go(c.id) }, label));
  $("channels").replaceChildren(...channels.map((c) => item(c, `${c.is_private ? "🔒" : "#"} ${c.name}`)));
  $("dms").replaceChildren(...data.channels.filter((c) => c.is_im).map((c) => item(c, `💬 ${data.bot.name}`)));
  $("home-tab").classList.toggle("current", ui.channel === "home");
  const home = ui.channel === "home";
  $("home").hidden = !home; $("messages").hidden = home; $("composer").hidden = home;
  if (home) {
    $("channel-name").textContent = "Home"; $("topic").textContent = data.bot.name;
    $("home").replaceChildren(data.home ? renderBlocks(data.home.blocks, { source: { kind: "view", view_id: homeId() } }) : el("p", {}, "Opening the Home tab…"));
  } else {
    const current = data.channels.find((c) => c.id === ui.channel);
    $("channel-name").textContent = current ? (current.is_im ? data.bot.name : `#${current.name}`) : "";
    $("topic").textContent = current ? current.topic : "";
    renderMessages(data.messages);
    $("composer-text").placeholder = current ? `Message #${current.name}, or a command: /owner payments-api` : "";
  }
  renderModal(data.modal);
}
const homeId = () => (ui.data.home_id || "");

function renderMessages(messages) {
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const replies = {};
  for (const m of messages) if (m.thread_ts && m.thread_ts !== m.ts) (replies[m.thread_ts] = replies[m.thread_ts] || []).push(m);
  box.replaceChildren(...messages.filter((m) => !m.thread_ts || m.thread_ts === m.ts || m.subtype === "thread_broadcast")
    .map((m) => renderMessage(m, replies[m.ts] || [])));
  if (atBottom) box.scrollTop = box.scrollHeight;
}

function renderMessage(m, replies) {
  const data = ui.data;
  const fromBot = Boolean(m.bot_id) || m.ephemeral;
  const author = fromBot ? data.bot.name : (data.users[m.user] || { real_name: m.user }).real_name;
  const when = new Date(parseFloat(m.ts) * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const ctx = { source: { kind: m.ephemeral ? "ephemeral" : "message", channel: ui.channel, ts: m.ts } };
  const body = m.blocks && m.blocks.length ? renderBlocks(m.blocks, ctx) : el("div", { class: "text", html: mrkdwn(m.text || "") });
  const attachments = (m.attachments || []).map((a) => renderAttachment(a, ctx));
  const files = (m.files || []).map((f) => el("button", { type: "button", class: "file", onclick: () => openFile(f) },
    `📄 ${f.title || f.name}`, el("small", { class: "file-name" }, f.name)));
  const reactions = (m.reactions || []).map((r) => el("button", { type: "button", class: `reaction${r.users.includes(ui.user) ? " mine" : ""}`,
    "data-reaction": r.name, title: r.users.map((u) => (data.users[u] || { name: u }).name).join(", "),
    onclick: () => api("reaction", { channel: ui.channel, ts: m.ts, name: r.name, add: !r.users.includes(ui.user) }) }, `${emoji(r.name)} ${r.count}`));
  const tools = m.ephemeral ? null : el("div", { class: "tools" },
    el("span", { class: "picker" }, PICKER.map((name) => el("button", { type: "button", title: `:${name}:`, "data-add-reaction": name,
      onclick: () => api("reaction", { channel: ui.channel, ts: m.ts, name, add: true }) }, emoji(name)))),
    m.thread_ts && m.thread_ts !== m.ts ? null : el("button", { type: "button", class: "reply", onclick: () => replyTo(m.ts) }, "Reply"));
  return el("article", { class: `message${m.ephemeral ? " ephemeral" : ""}`, "data-ts": m.ts },
    el("div", { class: "meta" }, el("span", { class: "author" }, author), fromBot ? el("span", { class: "app-tag" }, "APP") : null, el("time", {}, when),
      m.edited ? el("span", { class: "only-you" }, " (edited)") : null),
    m.ephemeral ? el("div", { class: "only-you" }, "👁 Only visible to you") : null,
    body, attachments, files, reactions.length ? el("div", { class: "reactions" }, reactions) : null, tools,
    replies.length ? el("div", { class: "thread" }, replies.map((r) => renderMessage(r, []))) : null);
}

// An attachment: its colour as the bar on the left (Slack's three named colours too), then
// its blocks, else its legacy text.
const NAMED_COLOURS = { good: "#2eb67d", warning: "#ecb22e", danger: "#e01e5a" };
function renderAttachment(a, ctx) {
  const box = el("div", { class: "attachment", "data-color": a.color || "" },
    a.blocks && a.blocks.length ? renderBlocks(a.blocks, ctx)
      : el("div", { class: "text", html: mrkdwn(a.text || a.fallback || "") }));
  box.style.borderLeftColor = NAMED_COLOURS[a.color] || a.color || "#dddddd";
  return box;
}

function renderModal(modal) {
  const backdrop = $("modal-backdrop"), form = $("modal");
  if (!modal) { backdrop.hidden = true; form.dataset.viewId = ""; return; }
  const key = JSON.stringify([modal.id, modal.view, modal.errors]);
  backdrop.hidden = false;
  if (form.dataset.key === key) return; // keep what the person typed
  const keep = form.dataset.viewId === modal.id ? collectValues(form) : null;
  form.dataset.key = key; form.dataset.viewId = modal.id;
  const view = modal.view;
  form.replaceChildren(el("h2", {}, view.title.text),
    renderBlocks(view.blocks, { source: { kind: "view", view_id: modal.id, modal: true }, errors: modal.errors }),
    el("div", { class: "modal-footer" },
      el("button", { type: "button", class: "bk-button", onclick: () => api("close", { view_id: modal.id }) }, view.close ? view.close.text : "Cancel"),
      view.submit ? el("button", { type: "submit", class: "bk-button primary" }, view.submit.text) : null));
  if (keep) restoreValues(form, keep);
}

function restoreValues(form, values) {
  for (const node of form.querySelectorAll("[data-type]")) {
    const v = (values[node.dataset.blockId] || {})[node.dataset.actionId];
    if (!v) continue;
    if ("value" in v && v.value !== null) node.value = v.value;
    if (v.selected_option && node.tagName === "SELECT") node.value = v.selected_option.value;
    if (v.selected_user) node.value = v.selected_user;
    if (v.selected_date) node.value = v.selected_date;
    if (v.selected_time) node.value = v.selected_time;
    if (node.chosen && (v.selected_options || v.selected_option)) node.chosen = v.selected_options || [v.selected_option];
    if (node.chosen) node.querySelector(".chips").replaceChildren(...node.chosen.map((o) => el("span", { class: "chip" }, optionText(o))));
    if (v.selected_options && node.classList.contains("choices")) {
      for (const box of node.querySelectorAll("input")) box.checked = v.selected_options.some((o) => o.value === box.value);
    }
  }
}

async function openFile(file) {
  const response = await fetch(file.url);
  $("file-name").textContent = file.title || file.name;
  $("file-text").textContent = await response.text();
  $("file-backdrop").hidden = false;
}

function replyTo(ts) { ui.thread = ts; $("replying").hidden = false; $("composer-text").focus(); }

function go(channel) {
  ui.channel = channel; ui.thread = ""; $("replying").hidden = true;
  history.replaceState(null, "", `?as=${ui.user}&channel=${channel}`);
  if (channel === "home") api("home", {}); else load();
}

// ---- wiring ----

$("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("composer-text"), text = input.value.trim();
  if (!text) return;
  input.value = "";
  if (text.startsWith("/")) await api("command", { channel: ui.channel, text });
  else await api("message", { channel: ui.channel, text, thread_ts: ui.thread });
});
$("modal").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = $("modal"), values = collectValues(form);
  // Slack's client refuses an empty required field itself; the app never hears of it.
  let missing = false;
  for (const block of form.querySelectorAll(".block-input[data-required]")) {
    const value = Object.values(values[block.dataset.blockId] || {})[0] || {};
    const empty = [value.value, value.selected_option, value.selected_user, value.selected_date, value.selected_time]
      .every((v) => v === null || v === undefined || v === "") && !(value.selected_options || []).length;
    block.querySelector(".field-error.required")?.remove();
    if (empty) {
      missing = true;
      block.append(el("div", { class: "field-error required", role: "alert" }, "Please complete this required field."));
    }
  }
  if (!missing) api("submit", { view_id: form.dataset.viewId, values });
});
$("as").addEventListener("change", () => { ui.user = $("as").value; go(ui.channel); });
$("home-tab").addEventListener("click", () => go("home"));
$("cancel-reply").addEventListener("click", () => { ui.thread = ""; $("replying").hidden = true; });
$("file-close").addEventListener("click", () => { $("file-backdrop").hidden = true; });
new EventSource("/api/events").onmessage = () => load();
load().then(() => { if (ui.channel === "home") go("home"); });
