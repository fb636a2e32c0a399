// Upload with a progress bar. Without JavaScript the form still posts normally.
(function () {
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var bar = document.getElementById("upload-progress");
  var text = document.getElementById("upload-progress-text");
  var errors = document.getElementById("upload-errors");
  var button = document.getElementById("upload-button");

  function showError(message) {
    errors.textContent = message;
    errors.hidden = false;
    button.disabled = false;
    bar.hidden = true;
    text.hidden = true;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var pct = Math.round((100 * e.loaded) / e.total);
      bar.value = pct;
      text.textContent = "Uploading… " + pct + "% (" + (e.loaded / 1048576).toFixed(1) +
        " of " + (e.total / 1048576).toFixed(1) + " MB)";
    });
    xhr.addEventListener("load", function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (ignored) {}
      if ((xhr.status === 201 || xhr.status === 200) && body.job_url) {  // 200: uploaded before
        text.textContent = "Uploaded. Opening the analysis…";
        window.location.assign(body.job_url);
      } else if (body.errors) {
        showError(Object.values(body.errors).flat().join(" "));
      } else if (xhr.status === 413 || xhr.status === 507) {
        showError("The file is too large for this server.");
      } else {
        showError("The upload failed (HTTP " + xhr.status + "). Please try again.");
      }
    });
    xhr.addEventListener("error", function () {
      showError("The upload failed: the connection was lost. Please try again.");
    });
    errors.hidden = true;
    button.disabled = true;
    bar.hidden = false;
    text.hidden = false;
    text.textContent = "Uploading…";
    xhr.send(new FormData(form));
  });
})();
