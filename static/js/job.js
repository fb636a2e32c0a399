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
  // Points are focusable (Tab): Enter or Space seeks too.
  document.querySelectorAll(".timeline .point").forEach(function (pt) {
    var seek = function () {
      if (!player) return;
      player.currentTime = parseFloat(pt.dataset.t);
      player.pause();
    };
    pt.addEventListener("click", seek);
    pt.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); seek(); }
    });
  });
})();
