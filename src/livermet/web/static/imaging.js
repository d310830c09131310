// Imaging page: upload with progress (XHR), job status, and the slice viewer.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("imaging");
  if (!root) return;
  const pk = root.dataset.pk;
  const form = document.getElementById("upload-form");
  const progress = document.getElementById("upload-progress");
  const ustatus = document.getElementById("upload-status");
  const jstatus = document.getElementById("job-status");
  let polling = null;

  function upload(file, role, labelset) {
    return new Promise((resolve, reject) => {
      const q = new URLSearchParams({ role, filename: file.name });
      if (role === "labels") q.set("labelset", labelset);
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", `/api/cases/${pk}/images?` + q.toString());
      xhr.setRequestHeader("X-CSRF-Token", livermet.csrf());
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) {
          progress.value = Math.round(100 * e.loaded / e.total);
          ustatus.textContent = `uploading… ${progress.value}%`;
        }
      };
      xhr.onload = () => {
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        if (xhr.status >= 200 && xhr.status < 300) resolve(data);
        else reject(new Error((data && data.detail) || ("HTTP " + xhr.status)));
      };
      xhr.onerror = () => reject(new Error("the connection failed"));
      xhr.send(file);
    });
  }

  if (form) {
    const roleSel = document.getElementById("upload-role");
    const lsSel = document.getElementById("upload-labelset");
    const sync = () => { lsSel.disabled = roleSel.value !== "labels"; };
    roleSel.addEventListener("change", sync); sync();
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const file = document.getElementById("upload-file").files[0];
      if (!file) return;
      progress.hidden = false; progress.value = 0;
      ustatus.className = "";
      try {
        const res = await upload(file, roleSel.value, lsSel.value);
        ustatus.textContent = `uploaded ${res.image.filename}`;
        ustatus.className = "ok";
        refresh();
      } catch (e) {
        ustatus.textContent = "upload refused: " + e.message;
        ustatus.className = "error";
      }
    });
  }
  const rerun = document.getElementById("run-volumetry");
  if (rerun) rerun.addEventListener("click", async () => {
    try { await livermet.api("POST", `/api/cases/${pk}/volumetry`); refresh(); }
    catch (e) { jstatus.textContent = e.message; jstatus.className = "error"; }
  });

  async function refresh() {
    const data = await livermet.api("GET", `/api/cases/${pk}/images`);
    const list = document.getElementById("image-list");
    list.innerHTML = "";
    for (const im of data.images) {
      const li = document.createElement("li");
      li.textContent = `${im.role}: ${im.filename} (${(im.bytes / 1e6).toFixed(1)} MB)` + (im.superseded ? " — replaced" : "");
      list.appendChild(li);
    }
    const job = data.jobs[0];
    if (job) {
      jstatus.textContent = `volumetry job ${job.id}: ${job.status}` + (job.message && job.message !== job.status ? ` — ${job.message}` : "") +
        (job.status === "running" ? ` (${Math.round(job.progress * 100)}%)` : "");
      const vres = job.result && job.result.volumetry;
      if (vres) {
        const how = { labels: "segment labels", landmarks: "landmarks", portal_territories: "portal-branch territories" };
        jstatus.textContent += vres.segments_method ? ` — Couinaud segments from ${how[vres.segments_method] || vres.segments_method}`
          : " — no Couinaud segments (upload segment labels, landmarks JSON or a portal-branch map)";
      }
      jstatus.className = job.status === "failed" ? "error" : (job.status === "done" ? "ok" : "");
      jstatus.dataset.status = job.status;
      if (job.status === "queued" || job.status === "running") {
        if (!polling) polling = setTimeout(() => { polling = null; refresh(); }, 700);
      } else if (job.status === "done") {
        loadViewer();
        loadExports();
      } else {
        loadViewer();  // a failed job may still have prepared the images (e.g. to place landmarks)
      }
    } else {
      loadViewer();
    }
  }

  async function loadExports() {
    let data;
    try { data = await livermet.api("GET", `/api/cases/${pk}/exports`); } catch (e) { return; }
    const box = document.getElementById("export-links");
    box.innerHTML = "";
    for (const f of data.files) {
      const a = document.createElement("a");
      a.href = f.url; a.textContent = f.name; a.setAttribute("download", "");
      box.appendChild(a); box.appendChild(document.createTextNode(" "));
    }
    document.getElementById("exports").hidden = data.files.length === 0;
  }

  // ------------------------------------------------------------------ viewer
  const canvas = document.getElementById("view");
  const ctx = canvas.getContext("2d");
  const slider = document.getElementById("slice");
  const preset = document.getElementById("preset");
  const axisSel = document.getElementById("axis");
  const label = document.getElementById("slice-label");
  let meta = null;
  const layers = new Set();
  const position = {};  // the slice shown last along each axis
  let drawToken = 0;
  let generation = 0;  // bumped when the viewer data change: cached slices are dropped
  // Decoded slices by URL (a small LRU): scrolling shows prefetched neighbours at once.
  const cache = new Map();
  const CACHE_MAX = 240;
  const PREFETCH = 3;  // slices on each side of the one shown

  function loadImage(url) {
    if (cache.has(url)) {
      const p = cache.get(url);
      cache.delete(url); cache.set(url, p);  // most recently used last
      return p;
    }
    const p = new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => { cache.delete(url); reject(new Error("image failed: " + url)); };
      img.src = url;
    });
    cache.set(url, p);
    while (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value);
    return p;
  }

  function axisLength(axis) {
    const [nz, ny, nx] = meta.shape;
    return { axial: nz, coronal: ny, sagittal: nx }[axis];
  }

  function urls(k) {
    const axis = axisSel.value;
    const out = [];
    if (meta.has_ct) out.push(`/api/cases/${pk}/viewer/ct/${k}.png?axis=${axis}&preset=${preset.value}&g=${generation}`);
    const on = [...layers].filter((l) => meta.layers.includes(l)).sort();
    if (on.length) out.push(`/api/cases/${pk}/viewer/overlay/${k}.png?axis=${axis}&layers=${on.join(",")}&g=${generation}`);
    return out;
  }

  function prefetch(k) {
    const n = axisLength(axisSel.value);
    for (let d = 1; d <= PREFETCH; d++) {
      for (const j of [k + d, k - d]) {
        if (j >= 0 && j < n) for (const u of urls(j)) loadImage(u).catch(() => {});
      }
    }
  }

  function sizeCanvas() {
    const [nz, ny, nx] = meta.shape;
    const [dz, dy, dx] = meta.spacing_mm;
    const axis = axisSel.value;
    // square millimetres on screen: 512 px for the larger side of the field of view
    const [w, h] = { axial: [nx * dx, ny * dy], coronal: [nx * dx, nz * dz], sagittal: [ny * dy, nz * dz] }[axis];
    const pxPerMm = 512 / Math.max(w, h);
    canvas.width = Math.round(w * pxPerMm);
    canvas.height = Math.round(h * pxPerMm);
    canvas.dataset.axis = axis;
    canvas.setAttribute("aria-label", `${axis} slice; scroll or use the arrow keys`);
    slider.max = axisLength(axis) - 1;
  }

  async function draw() {
    if (!meta) return;
    const k = Number(slider.value);
    position[axisSel.value] = k;
    label.textContent = `${axisSel.value} ${k + 1} / ${axisLength(axisSel.value)}`;
    const token = ++drawToken;
    let imgs;
    try { imgs = await Promise.all(urls(k).map(loadImage)); } catch (e) { return; }
    if (token !== drawToken) return;
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    for (const img of imgs) ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    drawMarks(k);
    canvas.dataset.drawn = String(k);
    prefetch(k);
  }

  async function loadViewer() {
    let m;
    try { m = await livermet.api("GET", `/api/cases/${pk}/viewer`); } catch (e) { return; }
    const first = !meta;
    meta = m;
    generation++;
    cache.clear();
    document.getElementById("viewer").hidden = false;
    const starts = meta.first_slices || { axial: meta.first_slice };
    for (const ax of ["axial", "coronal", "sagittal"]) {
      if (first || position[ax] === undefined) position[ax] = starts[ax] !== undefined ? starts[ax] : Math.floor(axisLength(ax) / 2);
    }
    sizeCanvas();
    slider.value = position[axisSel.value];
    preset.disabled = !meta.has_ct;
    const box = document.getElementById("layer-toggles");
    box.innerHTML = "";
    for (const l of meta.layers) {
      if (first && l !== "segments") layers.add(l);
      const lab = document.createElement("label");
      const cb = document.createElement("input");
      cb.type = "checkbox"; cb.checked = layers.has(l); cb.dataset.layer = l;
      cb.addEventListener("change", () => { cb.checked ? layers.add(l) : layers.delete(l); draw(); });
      lab.appendChild(cb); lab.appendChild(document.createTextNode(" " + l + " "));
      box.appendChild(lab);
    }
    if (meta.note) document.getElementById("viewer-note").textContent = meta.note;
    if (first) loadLandmarks();
    draw();
  }

  function step(delta) {
    slider.value = Math.max(0, Math.min(Number(slider.max), Number(slider.value) + delta));
    draw();
  }

  slider.addEventListener("input", draw);
  preset.addEventListener("change", draw);
  axisSel.addEventListener("change", () => {
    if (!meta) return;
    sizeCanvas();
    slider.value = position[axisSel.value];
    draw();
  });
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    step(e.deltaY > 0 ? -1 : 1);
  }, { passive: false });
  canvas.addEventListener("keydown", (e) => {
    if (e.key === "ArrowUp" || e.key === "ArrowRight") step(1);
    else if (e.key === "ArrowDown" || e.key === "ArrowLeft") step(-1);
    else return;
    e.preventDefault();
  });

  // ------------------------------------------------------------------ landmarks
  // Couinaud landmarks placed by clicking. The server turns a click (view, slice, row,
  // column in the slice's voxels) into LPS mm with the viewer's own geometry, and says where
  // each point shows in every view; this script only scales canvas pixels to voxels.
  const lmPanel = document.getElementById("landmark-panel");
  const lmKey = document.getElementById("lm-key");
  const lmPick = document.getElementById("lm-pick");
  const lmStatus = document.getElementById("lm-status");
  const LM_COLOURS = { right_hepatic_vein: "#ff8c00", middle_hepatic_vein: "#00e5ff", left_hepatic_vein: "#39ff14",
    ivc: "#b388ff", portal_bifurcation: "#ffea00", umbilical_fissure: "#ff4fd8" };
  const marks = {};  // key -> [{lps: [x, y, z], display: {axial: [k, row, col], ...}}]
  let lmProblem = null;  // the key the last refusal named

  function sliceSize(axis) {  // [rows, cols] of a slice, as take_slice lays it out
    const [nz, ny, nx] = meta.shape;
    return { axial: [ny, nx], coronal: [nz, nx], sagittal: [nz, ny] }[axis];
  }

  function drawMarks(k) {
    if (!meta) return;
    const axis = axisSel.value;
    const [rows, cols] = sliceSize(axis);
    const sx = canvas.width / cols, sy = canvas.height / rows;
    for (const [key, pts] of Object.entries(marks)) {
      for (const pt of pts) {
        if (!pt.display) continue;
        const [ks, row, col] = pt.display[axis];
        const off = Math.abs(ks - k);
        if (off > 3) continue;
        const x = (col + 0.5) * sx, y = (row + 0.5) * sy;
        ctx.beginPath();
        ctx.arc(x, y, off <= 0.5 ? 5 : 3, 0, 2 * Math.PI);
        ctx.lineWidth = key === (lmKey && lmKey.value) ? 2.5 : 1.5;
        if (off <= 0.5) { ctx.fillStyle = LM_COLOURS[key]; ctx.fill(); ctx.strokeStyle = "#000"; }
        else ctx.strokeStyle = LM_COLOURS[key];  // within 3 slices: a ring
        ctx.stroke();
      }
    }
  }

  function lmTable() {
    if (!lmPanel) return;
    const body = document.querySelector("#lm-table tbody");
    body.innerHTML = "";
    for (const opt of lmKey.options) {
      const key = opt.value;
      const pts = marks[key] || [];
      const tr = document.createElement("tr");
      tr.dataset.key = key;
      tr.dataset.count = String(pts.length);
      if (key === lmKey.value) tr.classList.add("lm-active");
      if (key === lmProblem) tr.classList.add("has-problem");
      const name = document.createElement("td");
      const sw = document.createElement("span");
      sw.className = "swatch"; sw.style.background = LM_COLOURS[key];
      name.appendChild(sw); name.appendChild(document.createTextNode(opt.textContent));
      const n = document.createElement("td");
      n.textContent = `${pts.length} (${opt.dataset.single ? "exactly 1" : "at least " + opt.dataset.min})`;
      const c = document.createElement("td");
      c.textContent = pts.map((p) => "[" + p.lps.map((v) => v.toFixed(1)).join(", ") + "]").join(" ");
      tr.append(name, n, c);
      body.appendChild(tr);
    }
  }

  function say(text, cls) { lmStatus.textContent = text; lmStatus.className = cls || ""; }

  async function loadLandmarks() {
    if (!lmPanel) return;
    let data;
    try { data = await livermet.api("GET", `/api/cases/${pk}/landmarks`); } catch (e) { return; }
    if (data.error) say(data.error, "error");
    if (!data.landmarks || Object.keys(marks).length) { lmTable(); return; }
    for (const key of data.keys) {
      const pts = key === "portal_bifurcation" ? [data.landmarks[key]] : data.landmarks[key];
      marks[key] = pts.map((lps, i) => ({ lps, display: data.display ? data.display[key][i] : null }));
    }
    say(`loaded the case's landmarks (${data.image.filename}, ${data.image.uploaded_at})` +
        (data.display ? "" : "; run the volumetry again to see them on the slices"), "");
    lmTable();
    draw();
  }

  if (lmPanel) {
    lmKey.addEventListener("change", () => { lmPick.checked = true; lmTable(); draw(); });
    canvas.addEventListener("click", async (e) => {
      if (!meta || !lmPick.checked) return;
      const rect = canvas.getBoundingClientRect();
      const x = (e.clientX - rect.left) * canvas.width / rect.width;
      const y = (e.clientY - rect.top) * canvas.height / rect.height;
      const axis = axisSel.value;
      const [rows, cols] = sliceSize(axis);
      // pixel -> voxel (centres at integers); the server does voxel -> LPS
      const q = new URLSearchParams({ axis, slice: slider.value, row: (y * rows / canvas.height - 0.5).toFixed(3),
        col: (x * cols / canvas.width - 0.5).toFixed(3) });
      const key = lmKey.value;
      let pt;
      try { pt = await livermet.api("GET", `/api/cases/${pk}/viewer/point?` + q.toString()); }
      catch (err) { say("point not placed: " + err.message, "error"); return; }
      const point = { lps: pt.lps, display: pt.display };
      if (lmKey.selectedOptions[0].dataset.single) marks[key] = [point];
      else (marks[key] = marks[key] || []).push(point);
      if (lmProblem === key) lmProblem = null;
      say(`${key}: point ${marks[key].length} at LPS [${pt.lps.map((v) => v.toFixed(1)).join(", ")}] mm (not saved yet)`, "");
      lmTable();
      draw();
    });
    document.getElementById("lm-undo").addEventListener("click", () => {
      const pts = marks[lmKey.value];
      if (pts && pts.length) { pts.pop(); say(`${lmKey.value}: last point removed (not saved yet)`, ""); }
      lmTable();
      draw();
    });
    document.getElementById("lm-save").addEventListener("click", async () => {
      const body = { coordinate_system: "LPS" };
      for (const [key, pts] of Object.entries(marks)) {
        if (!pts.length) continue;
        body[key] = key === "portal_bifurcation" ? pts[0].lps : pts.map((p) => p.lps);
      }
      const r = await fetch(`/api/cases/${pk}/landmarks`, { method: "PUT", credentials: "same-origin",
        headers: { "X-CSRF-Token": livermet.csrf(), "Content-Type": "application/json" }, body: JSON.stringify(body) });
      let data = null;
      try { data = await r.json(); } catch (e) { data = null; }
      if (!r.ok) {
        const msg = data && data.detail ? (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)) : "HTTP " + r.status;
        lmProblem = data && typeof data.field === "string" ? data.field.replace(/^landmarks\./, "").replace(/\[.*$/, "") : null;
        say("not saved: " + msg, "error");
        lmStatus.dataset.field = (data && data.field) || "";
        lmTable();
        return;
      }
      lmProblem = null;
      lmStatus.dataset.field = "";
      say(`saved as the case's landmarks (${data.image.filename})` + (data.job ? `; volumetry job ${data.job.id} queued` : ""), "ok");
      lmTable();
      refresh();
    });
    lmTable();
  }

  refresh();
});
