// Flask-JWT-Guard demo: plain JavaScript, no build step.
"use strict";

const TOKEN_KEY = "access_token";
const EXPIRY_KEY = "access_cookie_expiry"; // sessionStorage: {csrf, deadline} of the access cookie
const ACCESS_CSRF = "csrf_access_token";
const REFRESH_CSRF = "csrf_refresh_token";
const EXPIRES_HEADER = "X-Access-Expires-In"; // set by the demo server with every access cookie

function $(selector) {
  return document.querySelector(selector);
}

function readCookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

function storedToken() {
  return localStorage.getItem(TOKEN_KEY);
}

function username() {
  return $("#username").value.trim() || "alice";
}

function shorten(token) {
  return token.length > 24 ? `${token.slice(0, 16)}…${token.slice(-6)}` : token;
}

function clock(date = new Date()) {
  return date.toLocaleTimeString([], { hour12: false });
}

function minutes(seconds) {
  const whole = Math.max(0, Math.round(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

// Long tokens make the log unreadable: show their ends only.
function displayBody(body) {
  if (typeof body === "string") return body;
  // One line per response: { "msg": "hello alice", "location": "headers", ... }
  return JSON.stringify(
    body,
    (key, value) => (typeof value === "string" && value.startsWith("eyJ") ? shorten(value) : value),
    1,
  ).replace(/\n\s*/g, " ");
}

function displayUrl(url) {
  return url.replace(/([?&]jwt=)([^&]+)/, (match, prefix, token) => prefix + shorten(token));
}

// --- the access cookie's expiry (the cookie is HttpOnly: the server says, in EXPIRES_HEADER) ---

const renewWindow = Number(document.body.dataset.renewWindow || 0);

function knownExpiry() {
  const csrf = readCookie(ACCESS_CSRF);
  if (!csrf) return { phase: "none" };
  try {
    const saved = JSON.parse(sessionStorage.getItem(EXPIRY_KEY) || "null");
    // Each access cookie comes with its own CSRF cookie: same value, same cookie.
    if (saved && saved.csrf === csrf) return { phase: "known", deadline: saved.deadline };
  } catch {
    // unreadable: unknown
  }
  return { phase: "unknown" };
}

function showExpiry() {
  const expiry = knownExpiry();
  const out = $("#state-expiry");
  let phase = expiry.phase;
  let text = "no access cookie";
  if (phase === "unknown") text = "unknown (set before this page loaded)";
  if (phase === "known") {
    const left = (expiry.deadline - Date.now()) / 1000;
    if (left <= 0) {
      phase = "expired";
      text = `expired ${minutes(-left)} ago: cookie calls now get 401`;
    } else if (left <= renewWindow) {
      phase = "window";
      text = `in ${minutes(left)}: in the renewal window, the next cookie call renews it`;
    } else {
      phase = "valid";
      text = `in ${minutes(left)} (renewal window: its last ${renewWindow} s)`;
    }
  }
  out.dataset.phase = phase;
  out.textContent = text;
}

function rememberExpiry(seconds) {
  const csrf = readCookie(ACCESS_CSRF);
  if (!csrf) return;
  sessionStorage.setItem(EXPIRY_KEY, JSON.stringify({ csrf, deadline: Date.now() + seconds * 1000 }));
}

function refreshState() {
  const token = storedToken();
  $("#state-token").textContent = token ? shorten(token) : "none";
  const names = document.cookie
    .split(";")
    .map((part) => part.trim().split("=")[0])
    .filter(Boolean);
  $("#state-cookies").textContent = names.length ? names.join(", ") : "none";
  showExpiry();
}

// --- what a request carries, in words --------------------------------------------

function jsonBody(options) {
  try {
    return typeof options.body === "string" ? JSON.parse(options.body) : null;
  } catch {
    return null;
  }
}

// "Bearer header (localStorage token)", "cookie + X-CSRF-TOKEN", ...: from the request itself.
function describeSent(url, options) {
  const method = options.method || "GET";
  const headers = options.headers || {};
  const token = storedToken();
  const parts = [];

  const auth = headers.Authorization;
  if (auth) {
    parts.push(auth === `Bearer ${token}` ? "Bearer header (localStorage token)" : "Bearer header (altered token)");
  }

  const query = new URL(url, location.href).searchParams;
  if (query.has("jwt")) {
    parts.push(query.get("jwt") ? "?jwt= query string (localStorage token)" : "?jwt= query string, empty (no token stored)");
  }

  const body = jsonBody(options);
  if (body && "access_token" in body) {
    parts.push(body.access_token ? "JSON body (localStorage token)" : "JSON body without a token (none stored)");
  }

  const accessCsrf = readCookie(ACCESS_CSRF);
  const refreshCsrf = readCookie(REFRESH_CSRF);
  if (options.credentials !== "omit" && (accessCsrf || refreshCsrf)) {
    const csrf = headers["X-CSRF-TOKEN"];
    if (csrf && csrf === refreshCsrf) parts.push("refresh cookie + X-CSRF-TOKEN");
    else if (csrf && csrf === accessCsrf) parts.push("cookie + X-CSRF-TOKEN");
    else if (csrf) parts.push("cookie + wrong X-CSRF-TOKEN");
    else if (method === "GET") parts.push("cookie (a GET: no X-CSRF-TOKEN needed)");
    else parts.push("cookie without X-CSRF-TOKEN");
  }
  if (parts.length) return parts.join(" + ");
  return options.credentials === "omit" ? "no token (none in localStorage)" : "no token (no cookie)";
}

// --- the log ---------------------------------------------------------------------

// The button's colour says what to expect: orange (class "warn") buttons are meant to fail.
function outcomeOf(action, ok) {
  const button = document.querySelector(`button[data-action="${action}"]`);
  const expectFailure = Boolean(button && button.classList.contains("warn"));
  if (ok) return expectFailure ? "unexpected success" : "success";
  return expectFailure ? "expected failure" : "unexpected failure";
}

function addEntry({ action, label, method, url, status, statusText, ok, body, sent, notes = [] }) {
  const outcome = outcomeOf(action, ok);
  const found = body && typeof body === "object" && typeof body.location === "string" ? body.location : "";
  const item = document.createElement("li");
  item.className = `entry ${ok ? "ok" : "error"} ${outcome.startsWith("unexpected") ? "unexpected" : "expected"}`;
  item.dataset.action = action;
  item.dataset.status = String(status);
  item.dataset.outcome = outcome;

  const head = document.createElement("div");
  head.className = "entry-head";
  const pill = document.createElement("span");
  pill.className = "status";
  pill.textContent = statusText ? `${status} ${statusText}` : String(status);
  const title = document.createElement("span");
  title.className = "label";
  title.textContent = label;
  head.append(pill, title);
  if (outcome !== "success") {
    const tag = document.createElement("span");
    tag.className = `tag ${outcome.startsWith("unexpected") ? "unexpected" : "expected"}`;
    tag.textContent = outcome;
    head.append(tag);
  }
  const time = document.createElement("time");
  time.textContent = clock();
  head.append(time);

  const meta = document.createElement("div");
  meta.className = "entry-meta";
  const request = document.createElement("code");
  request.className = "request";
  request.textContent = method ? `${method} ${displayUrl(url)}` : url;
  const sentLine = document.createElement("span");
  sentLine.className = "sent";
  sentLine.textContent = `sent: ${sent}`;
  meta.append(request, sentLine);
  if (found) {
    const where = document.createElement("span");
    where.className = "location";
    where.textContent = `server's location: ${found}`;
    meta.append(where);
  }

  const pre = document.createElement("pre");
  pre.className = "body";
  pre.textContent = displayBody(body);
  item.append(head, meta, pre);

  for (const text of notes) {
    const note = document.createElement("p");
    note.className = "note";
    note.textContent = text;
    item.append(note);
  }
  if (notes.some((text) => text.startsWith("renewed"))) item.classList.add("renewed");

  $("#log").prepend(item);
  $("#log-empty").hidden = true;
}

// What a response did to the access cookie, in words (and the expiry countdown updated).
function cookieNotes(issues, response, csrfBefore) {
  const notes = [];
  const expiresIn = response.headers.get(EXPIRES_HEADER);
  const csrfAfter = readCookie(ACCESS_CSRF);
  if (expiresIn !== null) {
    rememberExpiry(Number(expiresIn));
    if (!csrfAfter) {
      $("#cookie-warning").hidden = false;
      notes.push("the browser did not keep the cookies (Secure, on a host it does not treat as secure)");
    } else if (!issues && csrfAfter !== csrfBefore) {
      // Not a login or refresh, yet a new access cookie: the extension's implicit refresh.
      $("#state-renewed").textContent = `renewed at ${clock()}: new access and CSRF cookies, same session`;
      notes.push(
        `renewed: this call came within ${renewWindow} s of expiry, so the response carries a new ` +
          `access cookie (CSRF cookie ${shorten(csrfBefore || "")} → ${shorten(csrfAfter)}), ` +
          `expiring in ${minutes(Number(expiresIn))}`,
      );
    } else {
      notes.push(`new access cookie, expiring in ${minutes(Number(expiresIn))}`);
    }
  }
  return notes;
}

async function call(action, label, url, options = {}, extra = {}) {
  const method = options.method || "GET";
  const sent = extra.sent || describeSent(url, options);
  const csrfBefore = readCookie(ACCESS_CSRF);
  try {
    const response = await fetch(url, options);
    const text = await response.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    const notes = cookieNotes(Boolean(extra.issues), response, csrfBefore);
    addEntry({
      action, label, method, url, body, sent,
      status: response.status, statusText: response.statusText, ok: response.ok,
      notes: notes.concat(extra.notes ? extra.notes(response, body) : []),
    });
    return body;
  } catch (error) {
    // e.g. fetch() refusing a GET with a body: the browser's own TypeError, nothing sent.
    addEntry({
      action, label, method, url, status: error.name, ok: false,
      body: `${error.name}: ${error.message}`,
      sent: "nothing: refused by the browser, not the server",
      notes: ["fetch() threw before any request left the browser; the server never saw it"],
    });
    return null;
  } finally {
    refreshState();
  }
}

function jsonOptions(method, payload, extra = {}) {
  return {
    method,
    headers: { "Content-Type": "application/json", ...(extra.headers || {}) },
    body: JSON.stringify(payload),
    credentials: extra.credentials || "same-origin",
  };
}

function bearer(token) {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// The stored token with its payload's "sub" changed: the signature no longer matches.
function forged(token) {
  if (!token) return null;
  const [header, payload, signature] = token.split(".");
  const binary = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
  const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
  claims.sub = "mallory";
  return `${header}.${base64url(new TextEncoder().encode(JSON.stringify(claims)))}.${signature}`;
}

// The log-out buttons end the cookie session when there is one, else the stored token's.
// Neither touches localStorage: "Forget token" does that.
function sessionRequest() {
  const csrf = readCookie(ACCESS_CSRF);
  if (csrf) return { method: "POST", headers: { "X-CSRF-TOKEN": csrf }, credentials: "same-origin" };
  return { method: "POST", headers: bearer(storedToken()), credentials: "omit" };
}

function logoutNotes(options) {
  return (response) => {
    if (!response.ok || !storedToken()) return [];
    if (options.headers.Authorization) {
      return ["localStorage token kept, to show it refused now (Forget token drops it)"];
    }
    return [
      "localStorage untouched: its token is another session, still live " +
        "(Log out again to revoke it, Forget token to drop it)",
    ];
  };
}

const LOGIN = "user name only (a login)";

// Token flows leave cookies out (credentials: "omit") so each call shows one location.
const actions = {
  async "login-token"() {
    const body = await call("login-token", "Log in (token)", "/login_without_cookies",
      jsonOptions("POST", { username: username() }, { credentials: "omit" }), { sent: LOGIN });
    if (body && body.access_token) localStorage.setItem(TOKEN_KEY, body.access_token);
    refreshState();
  },
  "call-header"() {
    return call("call-header", "Call via header", "/protected",
      { headers: bearer(storedToken()), credentials: "omit" });
  },
  "call-query"() {
    const token = storedToken() || "";
    return call("call-query", "Call via query string",
      `/protected?jwt=${encodeURIComponent(token)}`, { credentials: "omit" });
  },
  "call-json"() {
    return call("call-json", "Call via JSON body", "/protected",
      jsonOptions("POST", { access_token: storedToken() }, { credentials: "omit" }));
  },
  "forget-token"() {
    const had = storedToken();
    localStorage.removeItem(TOKEN_KEY);
    addEntry({
      action: "forget-token", label: "Forget token", method: "", ok: true, status: "local",
      url: `localStorage.removeItem("${TOKEN_KEY}")`,
      sent: "nothing: no request, the server is not told",
      body: had
        ? "token removed from localStorage: header, query string and JSON body calls now send no token"
        : "no token in localStorage",
      notes: had ? ["a copy of the token would still be accepted until it expires or its session is revoked"] : [],
    });
    refreshState();
  },
  "call-forged"() {
    return call("call-forged", "Header with a forged token", "/protected",
      { headers: bearer(forged(storedToken())), credentials: "omit" },
      { sent: storedToken() ? "Bearer header (localStorage token, sub changed to mallory)" : "no token" });
  },
  "get-json-body"() {
    return call("get-json-body", "GET with JSON body", "/protected",
      jsonOptions("GET", { access_token: storedToken() }, { credentials: "omit" }));
  },
  "server-get-json-body"() {
    const token = storedToken();
    return call("server-get-json-body", "GET with JSON body (non-browser client)", "/get_with_json_body",
      jsonOptions("POST", { access_token: token }, { credentials: "omit" }),
      {
        sent: `JSON body on a GET /protected, sent by the demo server's test client (${
          token ? "localStorage token" : "no token stored"})`,
        notes: () => ["the library's answer to a client that does send a JSON body with a GET"],
      });
  },
  "login-cookies"() {
    return call("login-cookies", "Log in (cookies)", "/login_with_cookies",
      jsonOptions("POST", { username: username() }), { sent: LOGIN, issues: true });
  },
  "login-short"() {
    return call("login-short", "Log in (short-lived cookie)", "/login_with_short_cookie",
      jsonOptions("POST", { username: username() }), { sent: LOGIN, issues: true });
  },
  "call-cookie"() {
    const csrf = readCookie(ACCESS_CSRF);
    const headers = csrf ? { "X-CSRF-TOKEN": csrf } : {};
    return call("call-cookie", "Call via cookie", "/protected",
      { method: "POST", headers, credentials: "same-origin" });
  },
  "cookie-get"() {
    return call("cookie-get", "Cookie GET (no CSRF needed)", "/protected",
      { credentials: "same-origin" });
  },
  "cookie-no-csrf"() {
    return call("cookie-no-csrf", "Cookie POST without CSRF", "/protected",
      { method: "POST", credentials: "same-origin" });
  },
  "cookie-wrong-csrf"() {
    return call("cookie-wrong-csrf", "Cookie POST with wrong CSRF", "/protected",
      { method: "POST", headers: { "X-CSRF-TOKEN": "not-the-right-token" },
        credentials: "same-origin" });
  },
  refresh() {
    const csrf = readCookie(REFRESH_CSRF);
    const headers = csrf ? { "X-CSRF-TOKEN": csrf } : {};
    return call("refresh", "Refresh (rotating)", "/refresh",
      { method: "POST", headers, credentials: "same-origin" }, { issues: true });
  },
  logout() {
    const options = sessionRequest();
    return call("logout", "Log out", "/logout", options, { notes: logoutNotes(options) });
  },
  "logout-everywhere"() {
    return call("logout-everywhere", "Log out everywhere", "/logout_everywhere", sessionRequest());
  },
  "only-headers-header"() {
    return call("only-headers-header", "Call /only_headers", "/only_headers",
      { headers: bearer(storedToken()), credentials: "same-origin" });
  },
  "only-headers-cookie"() {
    return call("only-headers-cookie", "Call /only_headers (cookie only)", "/only_headers",
      { credentials: "same-origin" });
  },
  clear() {
    $("#log").replaceChildren();
    $("#log-empty").hidden = false;
  },
};

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (button && actions[button.dataset.action]) actions[button.dataset.action]();
});

$("#loopback-link").href = `http://127.0.0.1:${location.port}/`;
$("#loopback-link").textContent = $("#loopback-link").href;
refreshState();
setInterval(showExpiry, 250);
document.body.dataset.ready = "true";
