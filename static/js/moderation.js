// Evidence page: a crop's time link seeks the player to that frame.
(function () {
  var player = document.getElementById("player");
  document.querySelectorAll("a.seek").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      if (!player) return;
      player.currentTime = parseFloat(link.dataset.t);
      player.pause();
      player.scrollIntoView({block: "center"});
    });
  });
})();
