/* ctg-carto: say in French why a file too large for an upload zone was not sent.
 * dcc.Upload drops a file over its max_size without any sign; the zone is wrapped in an element carrying
 * data-max-bytes, data-too-large (the server's own message, with {mo} / {octets} for the file's size) and
 * data-message-id (where to write it). See dashboard/donnees.py (upload_guard).
 */
(function () {
  "use strict";

  function megabytes(bytes) {
    return (bytes / (1024 * 1024)).toFixed(1).replace(".", ",");  /* geodata.readers.megabytes */
  }

  function check(event) {
    const zone = event.target && event.target.closest ? event.target.closest("[data-max-bytes]") : null;
    if (!zone) { return; }
    const files = event.type === "drop"
      ? (event.dataTransfer && event.dataTransfer.files) : event.target.files;
    const max = Number(zone.getAttribute("data-max-bytes"));
    const template = zone.getAttribute("data-too-large") || "";
    const out = document.getElementById(zone.getAttribute("data-message-id"));
    if (!out || !files) { return; }
    const refused = Array.from(files).filter(function (file) { return file.size > max; });
    out.textContent = refused.map(function (file) {
      return "« " + file.name + " » : " + template.replace("{mo}", megabytes(file.size)).replace("{octets}", String(file.size));
    }).join(" ");
  }

  document.addEventListener("change", check, true);
  document.addEventListener("drop", check, true);
})();
