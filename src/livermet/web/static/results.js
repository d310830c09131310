// Results page: plan another resection and see the remnant change.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("resection-form");
  if (!form) return;
  const box = document.getElementById("flr");
  const status = document.getElementById("resection-status");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let name = document.getElementById("resection-select").value.trim();
    const ids = [...form.querySelectorAll('input[name="resect_lesions"]:checked')].map((c) => c.value);
    const margin = document.getElementById("resection-margin");
    if (ids.length && name && !name.split("+").includes("lesions")) name += "+lesions";
    status.textContent = "recomputing…";
    status.className = "";
    try {
      const res = await livermet.api("POST", `/api/cases/${box.dataset.pk}/resection`,
        { version: Number(box.dataset.version), planned_resection: name, resect_lesions: ids,
          margin_mm: ids.length && margin && margin.value !== "" ? Number(margin.value) : null });
      box.dataset.version = res.case.version;
      document.getElementById("planned-resection").textContent = res.case.data.volumetry.planned_resection;
      if (res.job) {  // the remnant is measured again on the images, in the background
        document.getElementById("remnant-ml").textContent = "measuring…";
        let job = res.job;
        while (job.status === "queued" || job.status === "running") {
          status.textContent = `volumetry ${job.status}…`;
          await new Promise((r) => setTimeout(r, 500));
          job = await livermet.api("GET", `/api/jobs/${job.id}`);
        }
        if (job.status !== "done") throw new Error(job.message || "the volumetry job failed");
      }
      status.textContent = "updated";
      window.location.reload();
    } catch (e) {
      status.textContent = "not changed: " + e.message;
      status.className = "error";
    }
  });
});
