// attom-batch UI: live counts on the jobs and job pages, and the new-job page's drop zone
// and estimate. Plain DOM (textContent, createElement): nothing is parsed as HTML, which the
// Content-Security-Policy's Trusted Types rule enforces.
"use strict";

(function () {
  const ACTIVE = ["created", "submitted", "processing", "paused", "downloaded", "processing_results"];

  function pad2(n) { return (n < 10 ? "0" : "") + n; }
  const fmt = {
    num: (v) => Number(v || 0).toLocaleString("en-US"),
    pct: (v) => (v || 0) + "%",
    dollars: (c) => {
      c = Number(c || 0);
      const sign = c < 0 ? "-" : "";
      c = Math.abs(c);
      return sign + "$" + Math.floor(c / 100).toLocaleString("en-US") + "." + pad2(c % 100);
    },
    time: (v) => {
      const d = new Date(v);
      if (isNaN(d.getTime()) || d.getUTCFullYear() < 2) return "–";
      return d.getUTCFullYear() + "-" + pad2(d.getUTCMonth() + 1) + "-" + pad2(d.getUTCDate()) + " " +
        pad2(d.getUTCHours()) + ":" + pad2(d.getUTCMinutes()) + " UTC";
    },
    label: (v) => String(v == null ? "" : v).replace(/_/g, " "),
  };

  // fill writes a job's fields into the elements under root marked data-f.
  function fill(root, job) {
    root.querySelectorAll("[data-f]").forEach((el) => {
      const key = el.dataset.f;
      if (!(key in job)) return;
      const v = job[key];
      if (el.tagName === "PROGRESS") { el.value = v; return; }
      el.textContent = (fmt[el.dataset.fmt] || fmt.label)(v);
      if (el.classList.contains("status")) {
        el.className = el.className.replace(/\bs-\S+/, "s-" + v);
      }
    });
  }

  async function getJSON(url) {
    const res = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!res.ok) throw new Error(url + ": " + res.status);
    return res.json();
  }

  function poll(fn, delay) {
    let timer = 0;
    const tick = async () => {
      let next = delay;
      if (!document.hidden) {
        try { next = await fn(); } catch (e) { next = delay * 3; }
      }
      if (next > 0) timer = setTimeout(tick, next);
    };
    timer = setTimeout(tick, delay);
    return () => clearTimeout(timer);
  }

  function jobsPage() {
    const table = document.querySelector('[data-live="jobs"]');
    const empty = document.getElementById("no-jobs");
    poll(async () => {
      const jobs = await getJSON("/api/jobs");
      if (!table) {
        if (empty && jobs.length > 0) location.reload();
        return 5000;
      }
      const rows = table.tBodies[0].rows;
      if (jobs.length !== rows.length) { location.reload(); return 0; }
      let running = false;
      for (const job of jobs) {
        const row = table.querySelector('tr[data-id="' + CSS.escape(job.id) + '"]');
        if (!row) { location.reload(); return 0; }
        if (row.dataset.status !== job.status && !ACTIVE.includes(job.status)) {
          row.dataset.status = job.status;
        }
        fill(row, job);
        running = running || ACTIVE.includes(job.status);
      }
      return running ? 1500 : 5000;
    }, 1500);
  }

  // jobPage keeps the counts live while the job runs, and reloads the page when its status
  // or its driver changes (new sections, actions and downloads come with those).
  function jobPage(id) {
    const status = document.getElementById("job-status");
    if (!status) return;
    const first = status.dataset.status;
    const driven = status.dataset.driven === "yes";
    if (!ACTIVE.includes(first) && !driven) return;
    poll(async () => {
      const job = await getJSON("/api/jobs/" + encodeURIComponent(id));
      if (job.status !== first || Boolean(job.driver) !== driven) { location.reload(); return 0; }
      fill(document, job);
      return 1000;
    }, 1000);
  }

  function newJobPage() {
    const form = document.getElementById("new-job");
    const input = document.getElementById("file");
    const drop = document.getElementById("drop");
    const start = document.getElementById("start");
    const again = document.getElementById("estimate-button");
    const section = document.getElementById("estimate");
    const error = document.getElementById("form-error");
    const fileName = document.getElementById("file-name");
    const maxAge = document.getElementById("max_age_days");
    if (!form || !input) return;
    again.hidden = true; // the estimate comes by itself once a file is chosen
    start.disabled = true;

    function showError(msg) {
      error.textContent = msg;
      error.hidden = !msg;
    }

    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      if (e.dataTransfer && e.dataTransfer.files.length) {
        input.files = e.dataTransfer.files;
        estimate();
      }
    });
    input.addEventListener("change", estimate);
    maxAge.addEventListener("change", () => { if (input.files.length) estimate(); });
    form.addEventListener("submit", () => {
      start.disabled = true;
      start.textContent = "Starting…";
    });

    let seq = 0;
    async function estimate() {
      const file = input.files[0];
      if (!file) return;
      const mine = ++seq;
      start.disabled = true;
      showError("");
      fileName.textContent = file.name + " · reading…";
      const body = new FormData();
      body.append("max_age_days", maxAge.value);
      body.append("file", file);
      let res, data;
      try {
        res = await fetch("/api/estimate", { method: "POST", body: body, headers: { Accept: "application/json" } });
        data = await res.json();
      } catch (e) {
        data = { error: "the server did not answer: " + e.message };
      }
      if (mine !== seq) return;
      if (!res || !res.ok) {
        section.hidden = true;
        fileName.textContent = file.name;
        showError("This file cannot be used: " + (data && data.error ? data.error : "error " + (res && res.status)));
        return;
      }
      fileName.textContent = file.name + " · " + fmt.num(file.size) + " bytes";
      section.querySelectorAll("[data-e]").forEach((el) => {
        el.textContent = (fmt[el.dataset.fmt] || fmt.label)(data[el.dataset.e]);
      });
      renderPreview(data);
      section.hidden = false;
      start.disabled = false;
    }

    function cell(tag, text, cls) {
      const el = document.createElement(tag);
      el.textContent = text;
      if (cls) el.className = cls;
      return el;
    }

    function renderPreview(data) {
      const table = document.getElementById("preview");
      const head = document.createElement("tr");
      head.append(cell("th", "Line", "num"));
      (data.columns || []).forEach((c) => head.append(cell("th", c)));
      head.append(cell("th", "Read as"));
      table.tHead.replaceChildren(head);
      const rows = (data.sample || []).map((r) => {
        const tr = document.createElement("tr");
        tr.append(cell("td", String(r.line), "num"));
        (r.values || []).forEach((v) => tr.append(cell("td", v)));
        if (r.reject) tr.append(cell("td", "rejected: " + r.reject, "bad"));
        else if (r.duplicate_of) tr.append(cell("td", "duplicate of line " + r.duplicate_of));
        else tr.append(cell("td", r.address || ""));
        return tr;
      });
      table.tBodies[0].replaceChildren(...rows);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const page = document.body.dataset.page;
    if (page === "jobs") jobsPage();
    if (page === "job") jobPage(document.body.dataset.jobId);
    if (page === "new") newJobPage();
  });
})();
