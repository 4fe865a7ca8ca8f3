/* Scanning a visa seal with the phone's camera. Where the browser has a BarcodeDetector that reads QR
   codes, frames are decoded on the phone; elsewhere one frame at a time is drawn on a canvas and sent to
   the server, which reads it with the same reader as an uploaded photo. The seal found goes into the
   form's "seal" field; the guard still presses Check. */
(function () {
  "use strict";
  var box = document.getElementById("camera");
  var form = document.getElementById("check-form");
  if (!box || !form || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { return; }
  var start = document.getElementById("camera-start");
  var stop = document.getElementById("camera-stop");
  var video = document.getElementById("camera-video");
  var canvas = document.getElementById("camera-canvas");
  var status = document.getElementById("camera-status");
  var sealField = form.querySelector("[name=seal]");
  var stream = null;
  var detector = null;
  var running = false;
  var PREFIX = "SWV1:";

  function say(key) { status.textContent = box.getAttribute("data-" + key) || ""; }

  function finish() {
    running = false;
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null;
    video.hidden = true;
    stop.hidden = true;
    start.hidden = false;
  }

  function found(seal) {
    sealField.value = seal;
    finish();
    say("read");
    var passport = form.querySelector("[name=passport_number]");
    (passport && !passport.value ? passport : form.querySelector("button[type=submit]")).focus();
  }

  function onDevice() {
    if (!running) { return; }
    detector.detect(video).then(function (codes) {
      var seal = codes.map(function (c) { return c.rawValue; }).filter(function (t) { return t.indexOf(PREFIX) === 0; })[0];
      if (seal) { found(seal); } else { setTimeout(onDevice, 250); }
    }).catch(function () { setTimeout(onDevice, 500); });
  }

  function onServer() {
    if (!running) { return; }
    if (!video.videoWidth) { setTimeout(onServer, 300); return; }
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob(function (blob) {
      if (!running || !blob) { return; }
      var data = new FormData();
      data.append("csrf", form.querySelector("[name=csrf]").value);
      data.append("frame", blob, "frame.jpg");
      fetch(box.getAttribute("data-decode"), { method: "POST", body: data, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (answer) {
          if (answer.ok) { found(answer.seal); return; }
          if (answer.reason !== "no_qr_code") { status.textContent = answer.message; }
          setTimeout(onServer, 700);
        })
        .catch(function () { setTimeout(onServer, 1500); });
    }, "image/jpeg", 0.85);
  }

  function begin() {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        start.hidden = true;
        stop.hidden = false;
        running = true;
        say("looking");
        return video.play();
      })
      .then(function () {
        if (!running) { return; }
        var canDetect = "BarcodeDetector" in window;
        (canDetect ? window.BarcodeDetector.getSupportedFormats() : Promise.resolve([]))
          .then(function (formats) {
            if (formats.indexOf("qr_code") >= 0) {
              detector = new window.BarcodeDetector({ formats: ["qr_code"] });
              onDevice();
            } else {
              onServer();
            }
          })
          .catch(onServer);
      })
      .catch(function () { finish(); say("denied"); });
  }

  start.hidden = false;
  start.addEventListener("click", begin);
  stop.addEventListener("click", function () { finish(); say("stopped"); });
})();
