// Web chat of the VNeID assistant. Talks to POST /api/chat (DESIGN.md contract 2).
// Every text is inserted with textContent: nothing the bot or the user sends is parsed as HTML.
(function () {
  "use strict";
  var log = document.getElementById("log");
  var form = document.getElementById("form");
  var input = document.getElementById("text");
  var sendButton = document.getElementById("send");
  var KEY = "vneid-sender-id";


  // The conversation id comes from the server with an HTTP-only cookie proving this browser
  // owns it: only this browser can read the officers' replies to it (/api/chat/updates).
  var session = null;
  function ensureSession(fresh) {
    if (session && !fresh) { return session; }
    var known = fresh ? null : window.localStorage.getItem(KEY);
    session = fetch("/api/chat/session", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(known ? { sender_id: known } : {})
    }).then(function (response) {
      if (!response.ok) { throw new Error("session"); }
      return response.json();
    }).then(function (data) {
      window.localStorage.setItem(KEY, data.sender_id);
      return data.sender_id;
    });
    session.catch(function () { session = null; });  // offline: ask again next time
    return session;
  }

  function add(kind, text) {
    var item = document.createElement("li");
    item.className = "msg msg--" + kind;
    var bubble = document.createElement("div");
    bubble.className = "msg__bubble";
    bubble.textContent = text;
    item.appendChild(bubble);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function addButtons(item, buttons) {
    if (!buttons || !buttons.length) { return; }
    var box = document.createElement("div");
    box.className = "msg__buttons";
    buttons.forEach(function (b, i) {
      var button = document.createElement("button");
      button.type = "button";
      // The number can be typed instead of pressing (the gateway maps it).
      var number = document.createElement("span");
      number.className = "msg__num";
      number.textContent = String(i + 1);
      button.appendChild(number);
      button.appendChild(document.createTextNode(b.title));
      button.addEventListener("click", function () {
        Array.prototype.forEach.call(box.querySelectorAll("button"), function (x) { x.disabled = true; });
        send(b.payload, b.title);
      });
      box.appendChild(button);
    });
    item.appendChild(box);
    log.scrollTop = log.scrollHeight;
  }

  function busy(on) {
    sendButton.disabled = on;
    input.disabled = on;
  }

  function send(text, shown) {
    add("user", shown || text);
    var typing = add("bot typing", "Đang trả lời…");
    busy(true);
    ensureSession(false).then(function (id) {
      return fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender_id: id, text: text })
      });
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      typing.remove();
      if (!result.ok || !result.data.messages) {
        add("error", "Không gửi được tin nhắn. Bạn thử lại nhé.");
        return;
      }
      result.data.messages.forEach(function (m) {
        addButtons(add("bot", m.text), m.buttons);
      });
    }).catch(function () {
      typing.remove();
      add("error", "Mất kết nối. Bạn kiểm tra mạng rồi thử lại nhé.");
    }).then(function () {
      busy(false);
      input.focus();
    });
  }

  // Officers answer later: fetch what arrived for this chat (a few seconds apart,
  // slower while the tab is hidden; nothing is lost, the server keeps it until asked).
  var POLL_MS = 4000;
  // The next poll acknowledges what this one showed, and only then does the server delete
  // it: a page closed before that shows it again on the next visit, nothing is lost.
  var shown = [];
  function poll() {
    ensureSession(false).then(function (id) {
      return fetch("/api/chat/updates?sender_id=" + encodeURIComponent(id) +
        "&ack=" + shown.join(","));
    })
      .then(function (response) {
        if (!response.ok) { throw new Error("updates"); }
        return response.json();
      })
      .then(function (data) {
        var fresh = (data.messages || []).filter(function (m) {
          return shown.indexOf(m.id) < 0;
        });
        shown = (data.messages || []).map(function (m) { return m.id; });
        fresh.forEach(function (m) { addButtons(add("bot officer", m.text), m.buttons); });
      })
      .catch(function () { /* offline: try again later */ })
      .then(function () {
        window.setTimeout(poll, document.hidden ? POLL_MS * 5 : POLL_MS);
      });
  }
  window.setTimeout(poll, POLL_MS);

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
  });

  document.getElementById("restart").addEventListener("click", function () {
    ensureSession(true);
    log.textContent = "";
    send("/greet", "Bắt đầu lại");
  });

  send("/greet", "Xin chào");
}());
