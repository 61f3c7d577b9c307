// The model page: follow a running training's progress (server-sent events).
(function () {
  var page = document.getElementById("build");
  if (!page || !page.dataset.events) { return; }
  var source = new EventSource(page.dataset.events);
  var byId = function (id) { return document.getElementById(id); };
  source.onmessage = function (e) {
    var s = JSON.parse(e.data);
    byId("status").textContent = s.status_text;
    byId("status").dataset.status = s.status;
    byId("bar").value = s.progress;
    byId("stage").textContent = s.stage;
    byId("detail").textContent = s.detail;
    var log = byId("log");
    log.textContent = s.log.join("\n");
    log.scrollTop = log.scrollHeight;
  };
  source.addEventListener("done", function () { source.close(); window.location.reload(); });
  source.addEventListener("gone", function () { source.close(); });
})();
