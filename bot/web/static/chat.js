// Web chat of the VNeID assistant. Talks to POST /api/chat (DESIGN.md contract 2).
// Every text is inserted with textContent: nothing the bot or the user sends is parsed as HTML.
(function () {
  "use strict";
  var log = document.getElementById("log");
  var form = document.getElementById("form");
  var input = document.getElementById("text");
  var sendButton = document.getElementById("send");
  var KEY = "vneid-sender-id";

  function newSenderId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function senderId() {
    var id = window.localStorage.getItem(KEY);
    if (!id) {
      id = newSenderId();
      window.localStorage.setItem(KEY, id);
    }
    return id;
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
    fetch("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender_id: senderId(), text: text })
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
  function poll() {
    fetch("/api/chat/updates?sender_id=" + encodeURIComponent(senderId()))
      .then(function (response) { return response.ok ? response.json() : { messages: [] }; })
      .then(function (data) {
        (data.messages || []).forEach(function (m) {
          addButtons(add("bot officer", m.text), m.buttons);
        });
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
    window.localStorage.setItem(KEY, newSenderId());
    log.textContent = "";
    send("/greet", "Bắt đầu lại");
  });

  send("/greet", "Xin chào");
}());
