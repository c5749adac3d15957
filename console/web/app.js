// The analysts' console. Crawled text is hostile: every value goes into the page as text
// (textContent); the only HTML we insert is the API's highlight fragments, which the server
// escapes except for its own <em> markers (console/safe.py). Links must be http(s).
"use strict";

const TOKEN_KEY = "shaobing.token";
const SENTIMENT = { negative: "负面", neutral: "中性", positive: "正面" };
const COLORS = { negative: "#d9534f", neutral: "#9aa5b1", positive: "#5cb85c" };
const STATUS = { firing: "告警中", resolved: "已恢复", failed: "发送失败" };
const $ = (id) => document.getElementById(id);
let me = null;
let nextCursor = null;
let nextCursorUsed = false;   // the analyst paged on: automatic refresh leaves the list alone
const charts = {};

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "onclick") node.addEventListener("click", v);
    else node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function safeUrl(url) {
  return /^https?:\/\//i.test(url || "") ? url : null;
}

function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
}

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.parameter = body && body.parameter;
  }
}

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ""}` },
    options.headers || {});
  const resp = await fetch(path, Object.assign({}, options, { headers }));
  if (resp.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    me = null;
    show("login");
    throw new ApiError(401, { error: "请重新登录" });
  }
  if (!resp.ok) {
    let body = null;
    try { body = await resp.json(); } catch (e) { body = null; }
    throw new ApiError(resp.status, body);
  }
  return resp;
}

const getJson = async (path) => (await api(path)).json();

function show(view) {
  for (const s of document.querySelectorAll("main > section")) s.hidden = s.id !== `view-${view}`;
  $("nav").hidden = view === "login";
}

// ---- login
async function login(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  me = await getJson("/api/v1/me");
  $("who").textContent = `${me.name || me.token_id}（${me.role}）`;
  $("nav-tokens").hidden = me.role !== "admin";
}

$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("login-error").textContent = "";
  try {
    await login($("login-token").value.trim());
    if (!location.hash || location.hash === "#/login") location.hash = "#/search";
    else route();
  } catch (e) {
    $("login-error").textContent = "令牌无效或已吊销";
  }
});

$("logout").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  me = null;
  show("login");
});

// ---- search
const FILTERS = ["q", "mode", "since", "until", "site", "kind", "sentiment", "entity", "subject", "first_only"];

function queryParams(extra = {}) {
  // the filters every query endpoint shares; since/until are local times (Asia/Shanghai on the server)
  const form = new FormData($("search-form"));
  const params = new URLSearchParams();
  for (const [k, v] of form.entries()) if (v && FILTERS.includes(k)) params.append(k, v);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params;
}

function hitItem(hit) {
  const titleNode = el("a", { href: safeUrl(hit.url), target: "_blank", rel: "noopener noreferrer", class: "title" });
  if (hit.highlight.title.length) titleNode.innerHTML = hit.highlight.title[0];   // server-escaped, <em> only
  else titleNode.textContent = hit.title || "（无标题）";
  const snippet = el("p", { class: "snippet" });
  if (hit.highlight.text.length) snippet.innerHTML = hit.highlight.text.join(" … ");   // server-escaped, <em> only
  else snippet.textContent = hit.snippet;
  const meta = el("div", { class: "meta" },
    el("span", { class: `tag ${hit.sentiment_label}` }, SENTIMENT[hit.sentiment_label] || "中性"),
    ` ${hit.site} · ${fmtTime(hit.published_at)} `,
    hit.is_repost ? el("span", { class: "tag" }, "转载") : el("span", { class: "tag first" }, "首发"),
    hit.spread ? ` 传播 ${hit.spread} 条 ` : " ",
    el("a", { href: `#/cluster/${encodeURIComponent(hit.cluster_id)}`, class: "cluster-link" }, "转载链"));
  return el("li", { class: "hit" }, titleNode, meta, snippet);
}

let searchSeq = 0;   // a newer search wins over an older answer still in flight

async function runSearch(append) {
  const seq = ++searchSeq;
  $("search-error").textContent = "";
  const extra = { sort: $("search-form").sort.value };
  if (append && nextCursor) extra.cursor = nextCursor;
  nextCursorUsed = Boolean(append);
  const params = queryParams(extra);
  try {
    const [res] = await Promise.all([
      getJson(`/api/v1/search?${params}`),
      append ? null : loadTrend(seq),
      append ? null : loadFacets(seq),
    ]);
    if (seq !== searchSeq) return;
    if (!append) $("hits").replaceChildren();
    $("total").textContent = res.total_relation === "gte" ? `超过 ${res.total} 条结果` : `共 ${res.total} 条结果`;
    for (const hit of res.hits) $("hits").append(hitItem(hit));
    nextCursor = res.next;
    $("more").hidden = !res.next;
  } catch (e) {
    if (e.status !== 401) $("search-error").textContent = `检索失败：${e.message}${e.parameter ? `（参数 ${e.parameter}）` : ""}`;
  }
}

function stackedSeries(buckets) {
  return ["negative", "neutral", "positive"].map((s) => ({
    name: SENTIMENT[s], type: "bar", stack: "all", itemStyle: { color: COLORS[s] },
    data: buckets.map((b) => b[s]),
  }));
}

function drawChart(id, buckets, labelOf) {
  if (!window.echarts) { $(id).textContent = "图表库未加载（请运行 make install）"; return; }
  charts[id] = charts[id] || echarts.init($(id), null, { renderer: "canvas" });
  charts[id].setOption({
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { top: 0, data: Object.values(SENTIMENT) },
    grid: { left: 40, right: 10, top: 35, bottom: 30 },
    xAxis: { type: "category", data: buckets.map((b) => labelOf(b.t)) },
    yAxis: { type: "value", minInterval: 1 },
    series: stackedSeries(buckets),
  }, true);
}

async function loadTrend(seq) {
  const params = queryParams({ interval: $("f-interval").value });
  const res = await getJson(`/api/v1/trend?${params}`);
  if (seq !== undefined && seq !== searchSeq) return;
  const day = res.interval === "day";
  drawChart("trend", res.buckets, (t) => (day ? t.slice(5, 10) : t.slice(5, 16).replace("T", " ")));
}

async function loadFacets(seq) {
  const res = await getJson(`/api/v1/facets?${queryParams()}`);
  if (seq !== searchSeq) return;
  const names = { sites: "站点", keywords: "关键词", persons: "人物", places: "地点", organisations: "机构", subjects: "主题", sentiments: "情感" };
  const box = $("facets");
  box.replaceChildren();
  for (const [key, label] of Object.entries(names)) {
    if (!res[key] || !res[key].length) continue;
    const list = el("ul", { class: "facet", "data-facet": key });
    for (const b of res[key]) {
      const text = key === "sentiments" ? SENTIMENT[b.key] || b.key : b.key;
      list.append(el("li", {}, el("a", { href: "#", onclick: (ev) => { ev.preventDefault(); applyFacet(key, b.key); } }, text), ` ${b.count}`));
    }
    box.append(el("h4", {}, label), list);
  }
}

function applyFacet(key, value) {
  const form = $("search-form");
  if (key === "sites") form.site.value = value;
  else if (key === "sentiments") form.sentiment.value = value;
  else if (key === "subjects") form.subject.value = value;
  else if (key === "keywords") form.q.value = value;
  else form.entity.value = value;
  runSearch(false);
}

async function exportAs(fmt) {
  $("search-error").textContent = "";
  try {
    const resp = await api(`/api/v1/export.${fmt}?${queryParams()}`);
    const blob = await resp.blob();
    const name = (/filename="([^"]+)"/.exec(resp.headers.get("Content-Disposition") || "") || [])[1] || `shaobing.${fmt}`;
    const link = el("a", { href: URL.createObjectURL(blob), download: name });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (e) {
    if (e.status !== 401) $("search-error").textContent = `导出失败：${e.message}`;
  }
}

$("search-form").addEventListener("submit", (ev) => { ev.preventDefault(); runSearch(false); });
$("more").addEventListener("click", () => runSearch(true));
$("export-csv").addEventListener("click", () => exportAs("csv"));
$("export-xlsx").addEventListener("click", () => exportAs("xlsx"));
$("f-interval").addEventListener("change", () => loadTrend());

// ---- event and cluster
function postCard(p) {
  return el("div", { class: "card" },
    el("a", { href: safeUrl(p.url), target: "_blank", rel: "noopener noreferrer", class: "title" }, p.title || "（无标题）"),
    el("div", { class: "meta" }, `${p.site} · ${fmtTime(p.published_at)} · ${SENTIMENT[p.sentiment_label] || "中性"}`),
    el("p", { class: "snippet" }, p.snippet));
}

async function showEvent(alertId) {
  show("event");
  const ev = await getJson(`/api/v1/alerts/${encodeURIComponent(alertId)}/event`);
  const a = ev.alert;
  $("event-title").textContent = `${a.subject} · ${STATUS[a.status] || a.status}`;
  const s = ev.sentiments;
  $("event-summary").textContent = `窗口 ${fmtTime(a.window_start)} – ${fmtTime(a.window_end)}：提及 ${a.count} 条（基线 ${a.baseline.toFixed(1)}），`
    + `前后一小时共 ${ev.total} 条，负面 ${s.negative || 0} · 中性 ${s.neutral || 0} · 正面 ${s.positive || 0}，涉及 ${ev.sites.length} 个站点`;
  drawChart("event-timeline", ev.timeline, (t) => t.slice(11, 16));
  $("event-first").replaceChildren(ev.first ? postCard(ev.first) : "无");
  $("event-sites").replaceChildren(...ev.sites.map((x) => el("tr", {}, el("td", {}, x.site), el("td", {}, fmtTime(x.first_at)), el("td", {}, x.count))));
  const seen = new Set();
  const posts = [...ev.samples, ...ev.latest].filter((p) => !seen.has(p.post_id) && seen.add(p.post_id));
  $("event-posts").replaceChildren(...posts.map((p) => el("li", {}, postCard(p))));
}

async function showCluster(clusterId) {
  show("cluster");
  const c = await getJson(`/api/v1/clusters/${encodeURIComponent(clusterId)}`);
  $("cluster-summary").textContent = `共 ${c.total} 条，涉及站点：${c.sites.map((s) => `${s.site}（${s.count}）`).join("、")}`;
  $("cluster-first").replaceChildren(postCard(c.first));
  $("cluster-posts").replaceChildren(...c.posts.map((p) => el("tr", {},
    el("td", {}, fmtTime(p.published_at)), el("td", {}, p.site), el("td", {}, p.title || "（无标题）"),
    el("td", {}, p.post_id === c.first.post_id ? "首发" : "转载"))));
}

// ---- alerts
async function showAlerts() {
  show("alerts");
  $("alerts-error").textContent = "";
  const status = $("alert-status").value;
  const res = await getJson(`/api/v1/alerts${status ? `?status=${status}` : ""}`);
  const duty = me && me.role !== "viewer";
  $("alerts").replaceChildren(...res.alerts.map((a) => el("tr", { class: "alert-row" },
    el("td", {}, fmtTime(a.fired_at)), el("td", {}, a.subject), el("td", {}, a.rule), el("td", {}, a.severity),
    el("td", {}, STATUS[a.status] || a.status), el("td", {}, `${a.count} / ${Number(a.baseline).toFixed(1)}`),
    el("td", {}, `${(a.channel || []).join("、")}${a.delivered_at ? ` ${fmtTime(a.delivered_at)}` : ""}`),
    el("td", {}, a.ack ? `${a.ack.by || "已确认"} ${fmtTime(a.ack.at)}` : "未确认"),
    el("td", {},
      el("a", { href: `#/event/${encodeURIComponent(a.alert_id)}`, class: "event-link" }, "查看事件"),
      duty && !a.ack ? el("button", { type: "button", onclick: () => dutyAction(`/api/v1/alerts/${encodeURIComponent(a.alert_id)}/ack`, {}) }, "确认") : null,
      duty ? el("button", { type: "button", onclick: () => dutyAction("/api/v1/silences", { subject: a.subject, duration: "2h", comment: "控制台" }) }, "静默2小时") : null))));
  const sil = await getJson("/api/v1/silences");
  $("silences").replaceChildren(...sil.silences.map((x) => el("li", {}, `${x.subject} ${x.rule || "所有规则"} 至 ${fmtTime(x.ends_at)} ${x.created_by}`)));
}

async function dutyAction(path, body) {
  try {
    await api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    await showAlerts();
  } catch (e) {
    $("alerts-error").textContent = `操作失败：${e.message}`;
  }
}

$("alert-status").addEventListener("change", () => showAlerts());

// ---- pipeline health (operators): the checks of `shaobing status` and Prometheus's recorded rates
const HEALTH_STATE = { ok: "正常", warn: "注意", fail: "故障", off: "未启用" };
const HEALTH_VERDICT = { healthy: "运行正常", warnings: "运行正常（有需注意项）", unhealthy: "存在故障" };
const HEALTH_SERIES = {
  records_per_s: "各阶段处理速率（条/秒，5 分钟）", dead_letters_per_s: "死信速率（条/秒）",
  lag_records: "消费积压（条）", lag_seconds: "消费延迟（秒）", freshness_p99_s: "入库时效 p99（秒）",
  channel_failures_15m: "值班通道失败（15 分钟）", source_errors_15m: "信息源错误（15 分钟）",
};

async function showHealth() {
  show("health");
  $("health-error").textContent = "";
  const h = await getJson("/api/v1/health");
  $("health-verdict").textContent = `${HEALTH_VERDICT[h.verdict] || h.verdict}（命名空间 ${h.namespace}）`;
  $("health-verdict").className = `verdict-${h.verdict}`;
  $("health-checks").replaceChildren(...h.checks.map((c) => el("tr", { class: `health-${c.state}` },
    el("td", {}, HEALTH_STATE[c.state] || c.state), el("td", {}, c.part), el("td", {}, c.detail))));
  const blocks = [];
  if (!h.prometheus) blocks.push(el("p", {}, "Prometheus 未运行：速率与趋势不可用（shaobing stack up --with-prometheus）。"));
  else {
    for (const [key, title] of Object.entries(HEALTH_SERIES)) {
      const rows = (h.prometheus.series[key] || []).map((r) => el("tr", {},
        el("td", {}, Object.entries(r.labels).map(([k, v]) => `${k}=${v}`).join(" ")),
        el("td", {}, r.value === null ? "–" : Number(r.value.toPrecision(3)))));
      blocks.push(el("h3", {}, title), rows.length ? el("table", {}, el("tbody", {}, ...rows)) : el("p", {}, "无数据"));
    }
  }
  $("health-series").replaceChildren(...blocks);
}

// ---- tokens (admin)
async function showTokens() {
  show("tokens");
  const res = await getJson("/api/v1/tokens");
  $("tokens").replaceChildren(...res.tokens.map((t) => el("tr", {},
    el("td", {}, t.token_id), el("td", {}, t.role), el("td", {}, t.name), el("td", {}, fmtTime(t.created_at)),
    el("td", {}, t.revoked_at ? `已吊销 ${fmtTime(t.revoked_at)}` : "有效"),
    el("td", {}, t.revoked_at ? null : el("button", { type: "button", onclick: async () => {
      await api(`/api/v1/tokens/${t.token_id}`, { method: "DELETE" });
      showTokens();
    } }, "吊销")))));
}

$("token-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = new FormData($("token-form"));
  const resp = await api("/api/v1/tokens", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ role: form.get("role"), name: form.get("name") }) });
  const t = await resp.json();
  $("token-new").textContent = `新令牌（只显示这一次）：${t.token}`;
  showTokens();
});

// ---- reports, cases, hand-off (issue 11)
function reportQuery() {
  const form = new FormData($("report-form"));
  return { period: form.get("period"), date: form.get("date") };
}

async function openReport(fmt) {
  $("reports-error").textContent = "";
  const q = reportQuery();
  const params = new URLSearchParams({ format: fmt });
  if (q.date) params.set("date", q.date);
  try {
    const resp = await api(`/api/v1/reports/${encodeURIComponent(q.period)}?${params}`);
    if (fmt === "html") {
      // a sandboxed frame: no script runs in it, whatever the (already escaped) report holds
      $("report-frame").srcdoc = await resp.text();
      return;
    }
    const blob = await resp.blob();
    const name = (/filename="([^"]+)"/.exec(resp.headers.get("Content-Disposition") || "") || [])[1] || "report.docx";
    const link = el("a", { href: URL.createObjectURL(blob), download: name });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (e) {
    if (e.status !== 401) $("reports-error").textContent = `生成失败：${e.message}`;
  }
}

async function showReports() {
  show("reports");
  const res = await getJson("/api/v1/reports");
  $("report-archive").replaceChildren(...res.reports.map((r) => el("tr", {},
    el("td", {}, fmtTime(r.period_end)), el("td", {}, r.title),
    el("td", {}, r.delivered_at ? `${(r.channels || []).join("、")} ${fmtTime(r.delivered_at)}` : "未送达"),
    el("td", {}, el("button", { type: "button", onclick: async () => {
      const resp = await api(`/api/v1/reports/archive/${encodeURIComponent(r.report_id)}`);
      $("report-frame").srcdoc = await resp.text();
    } }, "打开")))));
}

$("report-form").addEventListener("submit", (ev) => { ev.preventDefault(); openReport("html"); });
$("report-docx").addEventListener("click", () => openReport("docx"));

async function showCases() {
  show("cases");
  const status = $("case-status").value;
  const res = await getJson(`/api/v1/cases${status ? `?status=${encodeURIComponent(status)}` : ""}`);
  $("cases").replaceChildren(...res.cases.map((c) => el("tr", {},
    el("td", {}, el("a", { href: `#/case/${encodeURIComponent(c.case_id)}` }, c.case_id)), el("td", {}, c.title),
    el("td", {}, c.status), el("td", {}, c.owner || "-"), el("td", {}, fmtTime(c.updated_at)))));
}

$("case-status").addEventListener("change", () => showCases());

let caseVersion = null;
async function showCase(caseId) {
  show("case");
  $("case-error").textContent = "";
  const res = await getJson(`/api/v1/cases/${encodeURIComponent(caseId)}`);
  const c = res.case;
  caseVersion = res.version;
  $("case-form").hidden = !me || me.role === "viewer";
  $("case-form").dataset.caseId = c.case_id;
  $("case-title").textContent = `${c.case_id} · ${c.title}`;
  $("case-meta").textContent = `状态：${c.status} · 负责人：${c.owner || "-"} · 主题：${c.subjects.join("、")} · 立档：${fmtTime(c.created_at)}（${c.created_by}）`;
  $("case-notes").replaceChildren(...c.notes.map((n) => el("li", {}, `${fmtTime(n.at)} ${n.by}：${n.text}`)));
  $("case-posts").replaceChildren(...c.posts.map((p) => el("li", {}, postCard({ ...p, snippet: p.text }))));
}

$("case-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = new FormData($("case-form"));
  const id = encodeURIComponent($("case-form").dataset.caseId);
  const post = (path, body) => api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  try {
    if (form.get("note")) caseVersion = (await (await post(`/api/v1/cases/${id}/notes`, { text: form.get("note"), version: caseVersion })).json()).version;
    if (form.get("status")) await post(`/api/v1/cases/${id}/status`, { status: form.get("status"), version: caseVersion });
    $("case-form").reset();
    await showCase(decodeURIComponent(id));
  } catch (e) {
    if (e.status !== 401) $("case-error").textContent = e.status === 409 ? `${e.message}（已有他人修改，请刷新）` : `保存失败：${e.message}`;
  }
});

async function showHandoff() {
  show("handoff");
  const h = await getJson("/api/v1/handoff");
  $("handoff-cases").replaceChildren(...h.open_cases.map((c) => el("li", {},
    el("a", { href: `#/case/${encodeURIComponent(c.case_id)}` }, c.case_id), ` [${c.status}] ${c.title} · ${c.owner || "未指派"}`)));
  $("handoff-alerts").replaceChildren(...h.unacked_alerts.map((a) => el("li", {},
    `${fmtTime(a.fired_at)} ${a.subject}（${a.rule}/${a.severity}）${a.count} 条 `,
    el("a", { href: `#/event/${encodeURIComponent(a.alert_id)}` }, "查看事件"))));
}

// ---- routing
async function route() {
  if (!sessionStorage.getItem(TOKEN_KEY)) { show("login"); return; }
  try {
    if (!me) await login(sessionStorage.getItem(TOKEN_KEY));
    const [, view, arg] = location.hash.split("/");
    if (view === "event" && arg) await showEvent(decodeURIComponent(arg));
    else if (view === "cluster" && arg) await showCluster(decodeURIComponent(arg));
    else if (view === "alerts") await showAlerts();
    else if (view === "tokens") await showTokens();
    else if (view === "reports") await showReports();
    else if (view === "cases") await showCases();
    else if (view === "case" && arg) await showCase(decodeURIComponent(arg));
    else if (view === "handoff") await showHandoff();
    else if (view === "health") await showHealth();
    else { show("search"); if (!$("hits").children.length) runSearch(false); }
  } catch (e) {
    if (e.status !== 401) { show("search"); $("search-error").textContent = `加载失败：${e.message}`; }
  }
}

// 自动刷新: re-run the current search (first page only) or the alert list every 10 s, so new
// posts and alerts show up while the pipeline runs (the demo)
setInterval(() => {
  if (!$("auto-refresh").checked || document.hidden || !me) return;
  if (!$("view-search").hidden && !nextCursorUsed) runSearch(false);
  else if (!$("view-alerts").hidden) showAlerts();
  else if (!$("view-health").hidden) showHealth().catch((e) => { $("health-error").textContent = `加载失败：${e.message}`; });
}, 10_000);

window.addEventListener("hashchange", route);
window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
route();
