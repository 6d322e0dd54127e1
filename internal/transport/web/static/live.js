// Passerelle: live messages (Server-Sent Events). The page works without
// this script; it only shows a volunteer's reply without a reload.
(function () {
  var url = document.body.getAttribute("data-events");
  var box = document.getElementById("msgs");
  if (!url || !box || !window.EventSource) return;
  var es = new EventSource(url);
  es.addEventListener("msg", function (e) {
    var t = document.createElement("template");
    t.innerHTML = e.data;
    box.appendChild(t.content);
  });
})();
