// The moderator's workbench: keyboard shortcuts, player tools, the decision panel, the queue.
// No inline scripts or handlers (the site's CSP): everything is wired here.
(function () {
  "use strict";
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };

  var player = $("#player");
  var workbench = $("#workbench");
  var form = $("#decision-form");
  var shortcuts = $("#shortcuts");

  function typing(el) {
    if (!el || !el.tagName) return false;
    var tag = el.tagName.toLowerCase();
    if (tag === "textarea" || el.isContentEditable) return true;
    if (tag === "input") return !/^(checkbox|radio|button|submit|reset)$/i.test(el.type);
    return false;
  }
  function submit(f) { if (f) { if (f.requestSubmit) f.requestSubmit(); else f.submit(); } }
  function clock(t) {
    var m = Math.floor(t / 60), s = t - 60 * m;
    return (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s.toFixed(1);
  }

  // --- Player tools ---------------------------------------------------------------------------
  var zoom = 1, speeds = [0.25, 0.5, 1, 1.5, 2];
  var fps = player ? (parseFloat(player.dataset.fps) || 25) : 25;
  function seek(t, pause) {
    if (!player) return;
    player.currentTime = Math.max(0, t);
    if (pause !== false) player.pause();
  }
  function step(n) { if (player) { player.pause(); seek(player.currentTime + n / fps); } }
  function setSpeed(v) {
    if (!player) return;
    player.playbackRate = v;
    var select = $("#speed");
    if (select) select.value = String(v);
  }
  function nudgeSpeed(dir) {
    if (!player) return;
    var i = speeds.indexOf(player.playbackRate);
    if (i < 0) i = 2;
    setSpeed(speeds[Math.max(0, Math.min(speeds.length - 1, i + dir))]);
  }
  function setZoom(z) {
    zoom = Math.max(1, Math.min(4, z));
    if (player) player.style.setProperty("--zoom", zoom);
    var label = $("#zoom-level");
    if (label) label.textContent = zoom + "×";
  }
  function toggleMute() {
    if (!player) return;
    player.muted = !player.muted;
    var b = $("#mute-button");
    if (b) { b.textContent = "Sound: " + (player.muted ? "off" : "on"); b.setAttribute("aria-pressed", String(player.muted)); }
  }
  var modes = ["blur", "greyscale", "off"];
  function cycleFaceOnly() {
    if (!workbench) return;
    var now = workbench.dataset.faceOnly || "off";
    var next = modes[(modes.indexOf(now) + 1) % modes.length];
    workbench.classList.remove("face-only-" + now);
    workbench.classList.add("face-only-" + next);
    workbench.dataset.faceOnly = next;
    var label = $("#face-only-state");
    if (label) label.textContent = next;
  }
  function playPause() { if (player) { if (player.paused) player.play(); else player.pause(); } }

  if (player) {
    var timeLabel = $("#player-time");
    player.addEventListener("timeupdate", function () { if (timeLabel) timeLabel.textContent = clock(player.currentTime); });
    player.addEventListener("seeked", function () { if (timeLabel) timeLabel.textContent = clock(player.currentTime); });
    var speed = $("#speed");
    if (speed) speed.addEventListener("change", function () { setSpeed(parseFloat(speed.value)); });
  }
  var actions = {
    "step-back": function () { step(-1); }, "step-forward": function () { step(1); },
    "play": playPause, "zoom-in": function () { setZoom(zoom + 0.5); },
    "zoom-out": function () { setZoom(zoom - 0.5); }, "mute": toggleMute,
    "face-only": cycleFaceOnly, "shortcuts": toggleShortcuts,
    "range-start": function () { setRange("start"); }, "range-end": function () { setRange("end"); }
  };
  $$("[data-action]").forEach(function (el) {
    el.addEventListener("click", function (event) {
      var act = actions[el.dataset.action];
      if (act) { event.preventDefault(); act(); }
    });
  });

  // Seeking from crops, timeline points (mouse or keyboard) and flagged segments.
  $$("a.seek").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      seek(parseFloat(link.dataset.t));
      if (player) player.scrollIntoView({block: "center"});
    });
  });
  var segmentEnd = null;
  $$("button.segment").forEach(function (b) {
    b.addEventListener("click", function () {
      seek(parseFloat(b.dataset.start), false);
      segmentEnd = parseFloat(b.dataset.end);
      if (player) player.play().catch(function () {});
    });
  });
  if (player) player.addEventListener("timeupdate", function () {
    if (segmentEnd !== null && player.currentTime >= segmentEnd) { player.pause(); segmentEnd = null; }
  });
  // Jump to the first flagged segment when the page opens (the part to look at first).
  var first = $("button.segment");
  if (player && first) {
    var jump = function () { seek(parseFloat(first.dataset.start)); };
    if (player.readyState >= 1) jump(); else player.addEventListener("loadedmetadata", jump, {once: true});
  }

  // Enlarge a crop to its full resolution.
  var viewer = $("#crop-viewer");
  $$("button.enlarge").forEach(function (b) {
    b.addEventListener("click", function () {
      if (!viewer) return;
      $("#crop-viewer-image").src = b.dataset.full;
      $("#crop-viewer-image").alt = b.dataset.caption;
      $("#crop-viewer-caption").textContent = b.dataset.caption;
      viewer.showModal();
    });
  });

  // --- Decision panel -------------------------------------------------------------------------
  var reason = $("#id_reason");
  function chosenDecision() {
    var r = form && $("input[name=decision]:checked", form);
    return r ? r.value : "";
  }
  function fittingReasons() {
    if (!reason) return [];
    var d = chosenDecision();
    return $$("option", reason).filter(function (o) { return o.value && (!d || (o.dataset.for || "").split(" ").indexOf(d) >= 0); });
  }
  function refreshReasons() {
    if (!reason) return;
    var d = chosenDecision(), fit = fittingReasons();
    $$("option", reason).forEach(function (o) {
      if (!o.value) return;
      var ok = fit.indexOf(o) >= 0;
      o.hidden = !ok; o.disabled = !ok;
    });
    if (reason.selectedOptions.length && reason.selectedOptions[0].disabled) reason.value = "";
    var keys = $("#reason-keys");
    if (keys) {
      keys.textContent = "";
      if (d) fit.forEach(function (o) {
        var li = document.createElement("li");
        li.textContent = o.textContent;
        keys.appendChild(li);
      });
    }
  }
  function decide(value) {
    if (!form) return;
    var radio = $("input[name=decision][value=" + value + "]", form);
    if (!radio) return;
    radio.checked = true;
    refreshReasons();
    radio.focus();
  }
  function pickReason(n) {
    var fit = fittingReasons();
    if (reason && chosenDecision() && fit[n - 1]) { reason.value = fit[n - 1].value; reason.dispatchEvent(new Event("change")); }
  }
  function setRange(which) {
    if (!form || !player) return;
    var input = $(which === "start" ? "#id_start_s" : "#id_end_s", form);
    if (input) input.value = clock(player.currentTime);
  }
  if (form) {
    $$("input[name=decision]", form).forEach(function (r) { r.addEventListener("change", refreshReasons); });
    refreshReasons();
    var note = $("textarea[name=note]", form);
    if (note) note.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); submit(form); }
    });
  }
  // The bulk form's reasons follow its decision too.
  var bulkDecision = $("#bulk-decision"), bulkReason = $("#bulk-reason");
  function refreshBulk() {
    if (!bulkDecision || !bulkReason) return;
    $$("option", bulkReason).forEach(function (o) {
      if (!o.value) return;
      var ok = (o.dataset.for || "").split(" ").indexOf(bulkDecision.value) >= 0;
      o.hidden = !ok; o.disabled = !ok;
    });
    if (bulkReason.selectedOptions.length && bulkReason.selectedOptions[0].disabled) bulkReason.value = "";
  }
  if (bulkDecision) { bulkDecision.addEventListener("change", refreshBulk); refreshBulk(); }

  // --- Queue ----------------------------------------------------------------------------------
  var rows = $$("#queue tbody tr.queue-item"), current = -1;
  function focusRow(i) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (r, n) { r.classList.toggle("current", n === current); });
    var link = $("a", rows[current]);
    if (link) link.focus();
  }
  function countSelected() {
    var n = $$("#queue input[name=items]:checked").length, el = $("#selected-count");
    if (el) el.textContent = String(n);
  }
  $$("#queue input[name=items]").forEach(function (c) { c.addEventListener("change", countSelected); });
  countSelected();

  // Countdowns stay current while the page is open.
  function refreshCountdowns() {
    var now = Date.now();
    $$("time[data-due]").forEach(function (el) {
      var minutes = Math.trunc((Date.parse(el.getAttribute("datetime")) - now) / 60000);
      var span = Math.abs(minutes), text;
      if (span < 60) text = span + " min";
      else if (span < 2880) text = Math.floor(span / 60) + " h" + (span % 60 ? " " + String(span % 60).padStart(2, "0") + " min" : "");
      else text = Math.floor(span / 1440) + " days";
      el.textContent = minutes < 0 ? "overdue " + text : "due in " + text;
      el.classList.toggle("due-overdue", minutes < 0);
      el.classList.toggle("due-soon", minutes >= 0 && minutes < 15);
      el.classList.toggle("due-ok", minutes >= 15);
    });
  }
  if ($("time[data-due]")) setInterval(refreshCountdowns, 30000);

  // --- Keyboard -------------------------------------------------------------------------------
  function toggleShortcuts() {
    if (!shortcuts) return;
    if (shortcuts.open) shortcuts.close(); else shortcuts.showModal();
  }
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    var target = event.target;
    if (typing(target)) return;
    if ($("dialog[open]") && event.key !== "?") return;  // Esc closes a dialog by itself
    var key = event.key, tag = (target.tagName || "").toLowerCase();
    var onControl = tag === "button" || tag === "a" || tag === "summary" || (target.getAttribute && target.getAttribute("role") === "button");
    var handled = true;
    switch (key) {
      case "?": toggleShortcuts(); break;
      case "n": submit($("#skip-form") || $("#next-form")); break;
      case "p": var prev = $("#previous-item"); if (prev) window.location.href = prev.href; else handled = false; break;
      case "c": var claim = $("#claim-form"); if (claim) submit(claim); else handled = false; break;
      case "f": decide("fake"); break;
      case "r": decide("real"); break;
      case "e": decide("escalate"); break;
      case "i": setRange("start"); break;
      case "o": setRange("end"); break;
      case ",": step(-1); break;
      case ".": step(1); break;
      case "<": nudgeSpeed(-1); break;
      case ">": nudgeSpeed(1); break;
      case "+": case "=": setZoom(zoom + 0.5); break;
      case "-": setZoom(zoom - 0.5); break;
      case "0": setZoom(1); break;
      case "m": toggleMute(); break;
      case "b": cycleFaceOnly(); break;
      case "j": if (rows.length) focusRow(current + 1); else handled = false; break;
      case "k": if (rows.length) focusRow(current - 1); else playPause(); break;
      case "x": if (rows.length && current >= 0) { var box = $("input[name=items]", rows[current]); if (box && !box.disabled) { box.checked = !box.checked; countSelected(); } } else handled = false; break;
      case " ": if (player && !onControl) playPause(); else handled = false; break;
      case "Enter":
        if (form && !onControl && chosenDecision() && reason && reason.value) submit(form);
        else handled = false;
        break;
      default:
        if (/^[1-9]$/.test(key) && form) pickReason(parseInt(key, 10)); else handled = false;
    }
    if (handled) event.preventDefault();
  });
})();
