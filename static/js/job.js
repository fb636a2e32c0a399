// While the job is queued or running, poll its status and reload once it has finished.
(function () {
  var el = document.getElementById("job");
  if (el) {
    var statusUrl = el.dataset.statusUrl;
    if (el.dataset.finished !== "true" && statusUrl) {
      var poll = function () {
        fetch(statusUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) {
            if (!data) return;
            var badge = document.getElementById("job-status");
            if (badge && badge.textContent !== data.status) badge.textContent = data.status;
            if (data.finished) window.location.reload();
          })
          .catch(function () {})
          .finally(function () { setTimeout(poll, 2000); });
      };
      setTimeout(poll, 1500);
    }
  }
  // Clicking a point of the score timeline seeks the player to that moment.
  var player = document.getElementById("player");
  function seek(el) {
    if (!player) return;
    player.currentTime = parseFloat(el.dataset.t);
    player.pause();
  }
  document.querySelectorAll(".timeline .point, .timeline .segment, a.seek").forEach(function (el) {
    el.addEventListener("click", function (ev) { ev.preventDefault(); seek(el); });
    el.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); seek(el); }
    });
  });
})();
