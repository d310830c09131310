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
      document.getElementById("planned-resection").textContent = name;
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
