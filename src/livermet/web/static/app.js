// livermet: small helpers shared by the pages (no framework, no CDN).
"use strict";
window.livermet = {
  csrf() {
    const m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  },
  async api(method, url, body) {
    const opts = { method, headers: { "X-CSRF-Token": livermet.csrf() }, credentials: "same-origin" };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const r = await fetch(url, opts);
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) {
      const msg = (data && data.detail) ? data.detail : ("HTTP " + r.status);
      const err = new Error(typeof msg === "string" ? msg : JSON.stringify(msg));
      err.status = r.status;
      throw err;
    }
    return data;
  },
};

document.addEventListener("DOMContentLoaded", () => {
  const add = document.getElementById("add-lesion");
  if (add) {
    add.addEventListener("click", () => {
      const body = document.querySelector("#lesion-table tbody");
      const rows = body.querySelectorAll("tr.lesion-row");
      const last = rows[rows.length - 1];
      const n = rows.length;
      const row = last.cloneNode(true);
      row.dataset.index = n;
      row.querySelectorAll("input, select").forEach((el) => {
        el.name = el.name.replace(/^lesion-\d+-/, "lesion-" + n + "-");
        if (el.tagName === "INPUT") el.value = ""; else el.selectedIndex = 0;
      });
      row.querySelectorAll(".msg").forEach((m) => m.remove());
      body.appendChild(row);
    });
  }
});
