// Flask-JWT-Guard demo: plain JavaScript, no build step.
"use strict";

const TOKEN_KEY = "access_token";

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

function refreshState() {
  const token = storedToken();
  $("#state-token").textContent = token ? shorten(token) : "none";
  const names = document.cookie
    .split(";")
    .map((part) => part.trim().split("=")[0])
    .filter(Boolean);
  $("#state-cookies").textContent = names.length ? names.join(", ") : "none";
}

function addEntry({ action, label, method, url, status, statusText, ok, body }) {
  const item = document.createElement("li");
  item.className = `entry ${ok ? "ok" : "error"}`;
  item.dataset.action = action;
  item.dataset.status = String(status);

  const head = document.createElement("div");
  head.className = "entry-head";
  const pill = document.createElement("span");
  pill.className = "status";
  pill.textContent = statusText ? `${status} ${statusText}` : String(status);
  const title = document.createElement("span");
  title.className = "label";
  title.textContent = label;
  const request = document.createElement("code");
  request.className = "request";
  request.textContent = `${method} ${displayUrl(url)}`;
  const time = document.createElement("time");
  time.textContent = new Date().toLocaleTimeString([], { hour12: false });
  head.append(pill, title, request, time);

  const pre = document.createElement("pre");
  pre.className = "body";
  pre.textContent = displayBody(body);

  item.append(head, pre);
  $("#log").prepend(item);
  $("#log-empty").hidden = true;
}

async function call(action, label, url, options = {}) {
  const method = options.method || "GET";
  try {
    const response = await fetch(url, options);
    const text = await response.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    addEntry({
      action, label, method, url, body,
      status: response.status, statusText: response.statusText, ok: response.ok,
    });
    return body;
  } catch (error) {
    // e.g. fetch() refusing a GET with a body: the browser's own TypeError.
    addEntry({ action, label, method, url, status: error.name, ok: false,
               body: `${error.name}: ${error.message}` });
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

// The log-out buttons end the cookie session when there is one, else the stored token's.
// The stored token is kept, so that calling with it afterwards shows it refused.
function sessionRequest() {
  const csrf = readCookie("csrf_access_token");
  if (csrf) return { method: "POST", headers: { "X-CSRF-TOKEN": csrf }, credentials: "same-origin" };
  const token = storedToken();
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  return { method: "POST", headers, credentials: "omit" };
}

// Token flows leave cookies out (credentials: "omit") so each call shows one location.
const actions = {
  async "login-token"() {
    const body = await call("login-token", "Log in (token)", "/login_without_cookies",
      jsonOptions("POST", { username: username() }, { credentials: "omit" }));
    if (body && body.access_token) localStorage.setItem(TOKEN_KEY, body.access_token);
    refreshState();
  },
  "call-header"() {
    const headers = {};
    const token = storedToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    return call("call-header", "Call via header", "/protected", { headers, credentials: "omit" });
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
  "get-json-body"() {
    return call("get-json-body", "GET with JSON body", "/protected",
      jsonOptions("GET", { access_token: storedToken() }, { credentials: "omit" }));
  },
  "login-cookies"() {
    return call("login-cookies", "Log in (cookies)", "/login_with_cookies",
      jsonOptions("POST", { username: username() }));
  },
  "call-cookie"() {
    const csrf = readCookie("csrf_access_token");
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
    const csrf = readCookie("csrf_refresh_token");
    const headers = csrf ? { "X-CSRF-TOKEN": csrf } : {};
    return call("refresh", "Refresh (rotating)", "/refresh",
      { method: "POST", headers, credentials: "same-origin" });
  },
  logout() {
    return call("logout", "Log out", "/logout", sessionRequest());
  },
  "logout-everywhere"() {
    return call("logout-everywhere", "Log out everywhere", "/logout_everywhere", sessionRequest());
  },
  "only-headers-header"() {
    const headers = {};
    const token = storedToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    return call("only-headers-header", "Call /only_headers", "/only_headers",
      { headers, credentials: "same-origin" });
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

refreshState();
document.body.dataset.ready = "true";
