// Results page: plan another resection and see the remnant change.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("resection-form");
  if (!form) return;
  const box = document.getElementById("flr");
  const status = document.getElementById("resection-status");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = document.getElementById("resection-select").value.trim();
    status.textContent = "recomputing…";
    try {
      const res = await livermet.api("POST", `/api/cases/${box.dataset.pk}/resection`,
        { version: Number(box.dataset.version), planned_resection: name });
      box.dataset.version = res.case.version;
      const v = res.case.data.volumetry || {};
      document.getElementById("remnant-ml").textContent = (v.remnant_ml ?? "—") + " mL";
      document.getElementById("planned-resection").textContent = v.planned_resection || "—";
      const s = (res.assessment && res.assessment.scores || {}).sflr;
      const cell = document.getElementById("sflr-value");
      if (s && cell) cell.textContent = `${s.value}${s.unit ? " " + s.unit : ""} — ${s.category || ""}`;
      if (res.volumetry && res.volumetry.resection) {
        const r = res.volumetry.resection;
        const c = document.getElementById("sflr-imaging");
        if (c) c.textContent = `${r.sflr_measured_percent} %` + (r.adequate == null ? "" : (r.adequate ? " — adequate" : " — inadequate"));
      }
      status.textContent = "updated (the options below are refreshed on reload)";
      setTimeout(() => window.location.reload(), 600);
    } catch (e) {
      status.textContent = "not changed: " + e.message;
      status.className = "error";
    }
  });
});
