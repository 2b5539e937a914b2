"use strict";
// The console page: renders each "state" event of /api/events; write actions send the token in a
// header (X-Siphon-Token), which is kept in this tab's sessionStorage only.
(function () {
  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem("siphon-token") || "";
  let last = null;

  function bytes(n) {
    if (n === null || n === undefined) return "–";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)) + " " + units[i];
  }
  function duration(s) {
    if (s === null || s === undefined) return "–";
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k === "width") e.style.width = v; // through the CSSOM: the page's CSP forbids style attributes
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v);
    }
    for (const c of children) if (c) e.append(c);
    return e;
  }
  function say(text, error) {
    $("message").textContent = text;
    $("message").className = error ? "error" : "";
  }

  function showMode() {
    const writable = token !== "";
    $("mode").textContent = writable ? "write access" : "read-only";
    $("mode").className = "badge " + (writable ? "rw" : "ro");
    $("token").hidden = writable;
    $("token-use").hidden = writable;
    $("token-forget").hidden = !writable;
    if (last) render(last);
  }

  async function act(domain, disk, action, body) {
    const path = "/api/domains/" + encodeURIComponent(domain) + "/disks/" + encodeURIComponent(disk) + "/" + action;
    try {
      const reply = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Siphon-Token": token },
        body: JSON.stringify(body || {}),
      });
      const answer = await reply.json().catch(() => ({}));
      if (reply.ok) say(action + " on " + domain + "/" + disk + ": done");
      else say(action + " on " + domain + "/" + disk + " refused (" + reply.status + "): " + (answer.error || ""), true);
    } catch (e) {
      say(action + " failed: " + e, true);
    }
  }

  function mapView(map) {
    const grid = el("div", { class: "map", "data-cells": map.cells, title: "each cell: " + bytes(map.cellBytes) });
    for (const c of map.cells) grid.append(el("i", { class: "c-" + c }));
    return grid;
  }

  function jobView(domain, disk, job) {
    const pct = job.endBytes > 0 ? Math.min(100, (100 * job.curBytes) / job.endBytes) : 0;
    const box = el("div", { class: "job", "data-state": job.state });
    box.append(el("div", { class: "bar", role: "progressbar", "aria-valuenow": pct.toFixed(1) },
      el("div", { width: pct.toFixed(1) + "%" })));
    box.append(el("span", { class: "pct", text: pct.toFixed(1) + " %" }));
    const limit = job.bandwidthBytesPerSecond > 0 ? bytes(job.bandwidthBytesPerSecond) + "/s" : "none";
    box.append(el("div", { class: "figures", text:
      job.type.toLowerCase() + " · " + job.state.toLowerCase() + " · " + bytes(job.curBytes) + " of " + bytes(job.endBytes)
      + " · rate " + bytes(job.rateBytesPerSecond) + "/s · ETA " + duration(job.etaSeconds) + " · speed limit " + limit }));
    if (job.error) box.append(el("div", { class: "error", text: "error: " + job.error }));
    return box;
  }

  function actionsView(domain, disk) {
    const writable = token !== "";
    const box = el("div", { class: "actions" });
    const running = disk.job && disk.job.state !== "ABORTING";
    const paused = running && disk.job.state === "PAUSED";
    const button = (label, action, enabled, body, cls) => el("button", {
      class: cls || "", "data-action": action, disabled: !writable || !enabled,
      onclick: () => act(domain, disk.target, action, body ? body() : {}),
    }, label);
    const speed = el("input", { type: "number", min: "0", step: "1", placeholder: "bytes/s", "aria-label": "speed" });
    const speedBody = () => ({ bytesPerSecond: Number(speed.value || 0) });
    box.append(button("Pull", "pull", !disk.job && !disk.readOnly, speedBody, "primary"));
    box.append(button("Pause", "pause", running && !paused));
    box.append(button("Resume", "resume", paused));
    box.append(button("Abort", "abort", running));
    box.append(speed);
    box.append(button("Set speed", "speed", running, speedBody));
    return box;
  }

  function diskView(domain, disk) {
    const box = el("section", { class: "disk", "data-disk": domain.name + "/" + disk.target });
    box.append(el("h3", {}, disk.target + " ",
      el("span", { class: "dim", text: disk.format + (disk.readOnly ? " · read-only" : "") + (disk.copyOnRead ? " · copy-on-read" : "")
        + (disk.sizeBytes !== undefined ? " · " + bytes(disk.sizeBytes) : "") })));
    if (disk.nbdUri) box.append(el("div", { class: "mono", text: disk.nbdUri }));
    if (disk.chain) {
      const table = el("table", { class: "chain" },
        el("tr", {}, el("th", { text: "" }), el("th", { text: "image" }), el("th", { text: "format" }),
          el("th", { text: "virtual" }), el("th", { text: "on disk" }), el("th", { text: "cluster" })));
      disk.chain.forEach((image, i) => table.append(el("tr", {},
        el("td", { class: "dim", text: i === 0 ? "top" : i === disk.chain.length - 1 ? "template" : "↓" }),
        el("td", { class: "mono", text: image.path }), el("td", { text: image.format }),
        el("td", { text: bytes(image.virtualSizeBytes) }), el("td", { text: bytes(image.actualSizeBytes) }),
        el("td", { text: image.clusterSizeBytes ? bytes(image.clusterSizeBytes) : "–" }))));
      box.append(table);
      box.append(el("div", { class: "dim", text: "copied into the top " + bytes(disk.copiedBytes)
        + " · read from the template " + bytes(disk.templateReadBytes) }));
    } else {
      box.append(el("div", { class: "mono dim", text: disk.source }));
    }
    if (disk.map) box.append(mapView(disk.map));
    if (disk.job) box.append(jobView(domain.name, disk.target, disk.job));
    else if (disk.lastJob) box.append(el("div", { class: "last " + disk.lastJob.status, text: "last job " +
      disk.lastJob.status.toLowerCase() + (disk.lastJob.error ? ": " + disk.lastJob.error : "") + " at " + disk.lastJob.at }));
    if (domain.state === "RUNNING") box.append(actionsView(domain.name, disk));
    return box;
  }

  function render(state) {
    last = state;
    const focused = document.activeElement && document.activeElement.tagName === "INPUT"
      && document.activeElement.closest(".actions");
    if (focused) return; // do not wipe a speed being typed; the next event after blur redraws
    const main = $("domains");
    main.replaceChildren();
    if (state.domains.length === 0) main.append(el("p", { class: "empty", text: "No domains defined." }));
    for (const domain of state.domains) {
      const box = el("article", { class: "domain", "data-domain": domain.name });
      box.append(el("h2", {}, domain.name, el("span", { class: "state " + domain.state, text: domain.state.toLowerCase() }),
        el("span", { class: "dim mono", text: domain.uuid })));
      for (const disk of domain.disks) box.append(diskView(domain, disk));
      main.append(box);
    }
  }

  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    token = $("token").value.trim();
    $("token").value = "";
    if (token) sessionStorage.setItem("siphon-token", token);
    showMode();
  });
  $("token-forget").addEventListener("click", () => {
    token = "";
    sessionStorage.removeItem("siphon-token");
    showMode();
  });

  const events = new EventSource("/api/events");
  events.addEventListener("state", (e) => render(JSON.parse(e.data)));
  events.onopen = () => { $("connection").textContent = "live"; $("connection").className = "badge on"; };
  events.onerror = () => { $("connection").textContent = "reconnecting…"; $("connection").className = "badge off"; };
  showMode();
})();
