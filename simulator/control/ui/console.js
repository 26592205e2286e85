// The live console: polls the control API (/_sim) every second and steers it.
// Plain script, no framework, no build step; everything goes through fetch.
"use strict";

(() => {
  const API = "/_sim";
  const POLL_MS = 1000;
  const POLL_TIMEOUT_MS = 15000; // a poll without an answer by then is reported
  const TOKEN_KEY = "airflow-sim-control-token";
  // SVG's namespace, as the HTML parser gives it (no URL in this file).
  const SVG = (() => {
    const holder = document.createElement("div");
    holder.innerHTML = "<svg></svg>";
    return holder.firstChild.namespaceURI;
  })();
  // Airflow's state colors; the order stacks the chart's bars, bottom first.
  const STATES = [
    ["success", "#008000"],
    ["failed", "#ff0000"],
    ["upstream_failed", "#ffa500"],
    ["up_for_retry", "#ffd700"],
    ["up_for_reschedule", "#40e0d0"],
    ["skipped", "#ff69b4"],
    ["running", "#00ff00"],
    ["restarting", "#ee82ee"],
    ["shutdown", "#0000ff"],
    ["deferred", "#9370db"],
    ["queued", "#808080"],
    ["scheduled", "#d2b48c"],
    ["removed", "#d3d3d3"],
    ["none", "#ffffff"],
  ];
  const COLOR = new Map(STATES);
  const ORDER = new Map(STATES.map(([state], i) => [state, i]));

  const $ = (id) => document.getElementById(id);

  // -- talking to the control API ------------------------------------------

  class AuthRequired extends Error {}

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function storedToken() {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null; // storage refused (privacy settings): ask each time
    }
  }

  let memoryToken = null; // when sessionStorage refuses to keep it

  function saveToken(token) {
    memoryToken = token;
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      // kept in memory only
    }
  }

  async function api(method, path, body, timeout) {
    const headers = { Accept: "application/json" };
    const token = storedToken() || memoryToken;
    if (token) headers.Authorization = `Bearer ${token}`;
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let timer = null;
    if (timeout) {
      const abort = new AbortController();
      init.signal = abort.signal;
      timer = setTimeout(() => abort.abort(), timeout);
    }
    let response;
    let text;
    try {
      response = await fetch(API + path, init);
      text = await response.text();
    } catch (error) {
      if (error && error.name === "AbortError") {
        throw new Error(`no answer from the simulator in ${timeout / 1000} s`);
      }
      throw new Error("the simulator cannot be reached");
    } finally {
      clearTimeout(timer);
    }
    if (response.status === 401) {
      throw new AuthRequired(token ? "the control token was refused" : "a control token is required");
    }
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    if (!response.ok) {
      const detail = data && typeof data === "object" ? data.detail || data.title : null;
      throw new ApiError(response.status, `${response.status}: ${detail || response.statusText}`);
    }
    return data;
  }

  // -- status line, messages, the token dialog -----------------------------

  function setText(element, text) {
    const value = String(text);
    if (element.textContent !== value) element.textContent = value;
  }

  function setStatus(text, connected) {
    const status = $("status");
    setText(status, text);
    status.classList.toggle("connected", connected);
  }

  function setMessage(text, isError = false) {
    const message = $("message");
    setText(message, text);
    message.classList.toggle("error", isError);
    message.title = text;
  }

  let waitingForToken = false;

  function askToken(reason) {
    waitingForToken = true;
    clearTimeout(pollTimer);
    const why = $("token-why");
    setText(why, `This server runs with --control-token: ${reason}.`);
    why.classList.toggle("error", reason.includes("refused"));
    const dialog = $("token-dialog");
    if (!dialog.open) {
      if (typeof dialog.showModal === "function") dialog.showModal();
      else dialog.setAttribute("open", "");
    }
    $("token").focus();
  }

  function tokenSaved(event) {
    event.preventDefault();
    const token = $("token").value.trim();
    if (!token) return;
    saveToken(token);
    const dialog = $("token-dialog");
    if (typeof dialog.close === "function") dialog.close();
    else dialog.removeAttribute("open");
    waitingForToken = false;
    setMessage("token saved for this tab");
    poll();
  }

  function failed(error) {
    if (error instanceof AuthRequired) askToken(error.message);
    return error instanceof Error ? error.message : String(error);
  }

  // -- polling -------------------------------------------------------------

  let pollTimer = null;
  let polling = false;
  let pollAgain = false;

  async function poll() {
    if (polling) {
      pollAgain = true; // once this one ends
      return;
    }
    clearTimeout(pollTimer);
    polling = true;
    try {
      // One call first: without the token, one 401 rather than five.
      const clock = await api("GET", "/clock", undefined, POLL_TIMEOUT_MS);
      const [world, faults, journal, scenario] = await Promise.all([
        api("GET", "/world", undefined, POLL_TIMEOUT_MS),
        api("GET", "/faults", undefined, POLL_TIMEOUT_MS),
        api("GET", "/requests?limit=50", undefined, POLL_TIMEOUT_MS),
        api("GET", "/scenario", undefined, POLL_TIMEOUT_MS),
      ]);
      renderClock(clock);
      renderWorld(world);
      renderFaults(faults.faults);
      renderJournal(journal.requests);
      renderScenario(scenario);
      setStatus("connected", true);
    } catch (error) {
      setStatus(failed(error), false);
    } finally {
      polling = false;
      if (!waitingForToken) pollTimer = setTimeout(poll, pollAgain ? 0 : POLL_MS);
      pollAgain = false;
    }
  }

  // An action: its outcome in the message line, then a fresh look at once.
  async function act(doing, action) {
    setMessage(`${doing}…`);
    try {
      setMessage((await action()) || "done");
    } catch (error) {
      setMessage(`${doing}: ${failed(error)}`, true);
    }
    poll();
  }

  // -- keyed lists: rows are kept and updated, not rebuilt -------------------

  function sync(container, items, attribute, keyOf, create, update) {
    const existing = new Map();
    for (const element of Array.from(container.children)) {
      existing.set(element.getAttribute(attribute), element);
    }
    let cursor = container.firstElementChild;
    for (const item of items) {
      const key = String(keyOf(item));
      let element = existing.get(key);
      if (element) {
        existing.delete(key);
      } else {
        element = create(item);
        element.setAttribute(attribute, key);
      }
      update(element, item);
      if (element === cursor) cursor = cursor.nextElementSibling;
      else container.insertBefore(element, cursor);
    }
    for (const element of existing.values()) element.remove();
  }

  function make(tag, className, text) {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined) element.textContent = text;
    return element;
  }

  // -- clock ---------------------------------------------------------------

  function renderClock(clock) {
    setText($("clock-now"), clock.now);
    const mode = $("clock-mode");
    setText(mode, clock.mode);
    mode.className = clock.mode;
    const speed = Number(clock.speed);
    setText($("clock-speed"), String(speed));
    $("pause").classList.toggle("active", clock.mode === "frozen");
    $("resume").classList.toggle("active", clock.mode === "realtime");
    for (const button of document.querySelectorAll("button.speed-preset")) {
      button.classList.toggle("active", Number(button.dataset.speed) === speed);
    }
  }

  function advance(body, what) {
    act(`advancing ${what}`, async () => {
      const done = await api("POST", "/clock/advance", body);
      const stopped = done.complete ? "" : " (stopped at the event limit)";
      return `advanced to ${done.now}: ${done.events} events${stopped}`;
    });
  }

  // -- world: DAGs, the 24-hour chart, pools ----------------------------------

  function renderWorld(world) {
    const count = $("dags-count");
    const shown = world.dags.length;
    setText(count, shown < world.total_dags ? `${shown} of ${world.total_dags}` : `${shown}`);
    sync($("dags"), world.dags, "data-dag-id", (dag) => dag.dag_id, createDag, updateDag);
    renderChart(world.last_24h);
    sync($("pools"), world.pools, "data-pool", (pool) => pool.name, createPool, updatePool);
  }

  function createDag() {
    const row = make("div", "dag");
    row.append(make("span", "dag-id"), make("span", "badges"), make("span", "runs"));
    return row;
  }

  function updateDag(row, dag) {
    setText(row.querySelector(".dag-id"), dag.dag_id);
    row.classList.toggle("paused", dag.is_paused);
    const badges = [];
    if (dag.is_paused) badges.push(["paused", "paused"]);
    if (dag.has_import_errors) badges.push(["import error", "import-error"]);
    if (!dag.is_active) badges.push(["inactive", "inactive"]);
    const holder = row.querySelector(".badges");
    const signature = badges.map(([text]) => text).join("|");
    if (holder.dataset.signature !== signature) {
      holder.dataset.signature = signature;
      holder.replaceChildren(...badges.map(([text, kind]) => make("span", `badge ${kind}`, text)));
    }
    sync(row.querySelector(".runs"), dag.runs, "data-run-id", (run) => run.run_id,
      () => make("span", "run-square"), updateRun);
  }

  function updateRun(square, run) {
    const state = run.state || "none";
    if (square.dataset.state !== state) square.dataset.state = state;
    square.title = `${run.run_id}\n${state} · logical date ${run.logical_date}`;
  }

  function createPool() {
    const row = make("div", "pool");
    const meter = make("span", "meter");
    meter.append(make("span"));
    row.append(make("span", "pool-name"), meter, make("span", "pool-slots"));
    return row;
  }

  function updatePool(row, pool) {
    const infinite = pool.slots < 0;
    setText(row.querySelector(".pool-name"), pool.name);
    const open = infinite ? "∞" : pool.open;
    const slots = infinite ? "∞" : pool.slots;
    setText(row.querySelector(".pool-slots"),
      `${slots} slots · ${pool.occupied} occupied · ${open} open`);
    const share = infinite || pool.slots === 0 ? 0 : Math.min(1, pool.occupied / pool.slots);
    row.querySelector(".meter > span").style.width = `${Math.round(share * 100)}%`;
  }

  // -- the chart: two stacked bar panels (runs, task instances) by hour ------

  let chartShown = "";

  function svg(tag, attributes, text) {
    const element = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function ordered(counts) {
    return Object.entries(counts).sort(
      ([a], [b]) => (ORDER.get(a) ?? 99) - (ORDER.get(b) ?? 99) || a.localeCompare(b),
    );
  }

  function renderChart(last) {
    const shown = JSON.stringify(last);
    if (shown === chartShown) return;
    chartShown = shown;
    const width = 720;
    const left = 64;
    const slot = (width - left - 4) / last.hours.length;
    const panels = [
      ["runs", "dag_runs", 4],
      ["tasks", "task_instances", 80],
    ];
    const height = 64;
    const chart = svg("svg", {
      viewBox: `0 0 ${width} 168`,
      role: "img",
      "aria-label": `DAG runs and task instances by state, each hour from ${last.from} to ${last.until}`,
    });
    for (const [label, field, top] of panels) {
      const max = Math.max(1, ...last.hours.map((hour) => sum(hour[field])));
      chart.append(
        svg("text", { x: 0, y: top + 14 }, label),
        svg("text", { x: 0, y: top + 32 }, `max ${max}`),
        svg("line", { class: "axis", x1: left, x2: width, y1: top + height, y2: top + height }),
      );
      last.hours.forEach((hour, i) => {
        let y = top + height;
        for (const [state, count] of ordered(hour[field])) {
          const h = (count / max) * height;
          y -= h;
          const bar = svg("rect", {
            class: "bar",
            x: (left + i * slot + 2).toFixed(1),
            y: y.toFixed(2),
            width: (slot - 4).toFixed(1),
            height: h.toFixed(2),
            fill: COLOR.get(state) || "#000000",
            "data-state": state,
          });
          bar.append(svg("title", {}, `${hourOf(hour.start)} ${label}: ${count} ${state}`));
          chart.append(bar);
        }
      });
    }
    last.hours.forEach((hour, i) => {
      if (i % 3 === 0) {
        chart.append(svg("text", { x: (left + i * slot + 2).toFixed(1), y: 164 }, hourOf(hour.start)));
      }
    });
    $("chart").replaceChildren(chart);
    renderLegend(last.hours);
  }

  function sum(counts) {
    return Object.values(counts).reduce((total, n) => total + n, 0);
  }

  function hourOf(iso) {
    return iso.slice(11, 16); // HH:MM of the ISO instant (the clock's offset, UTC)
  }

  function renderLegend(hours) {
    const seen = new Set();
    for (const hour of hours) {
      for (const state of [...Object.keys(hour.dag_runs), ...Object.keys(hour.task_instances)]) {
        seen.add(state);
      }
    }
    const items = ordered(Object.fromEntries([...seen].map((state) => [state, 0]))).map(([state]) => {
      const item = make("span", "legend-item");
      const swatch = make("span", "swatch");
      swatch.style.background = COLOR.get(state) || "#000000";
      item.append(swatch, state);
      return item;
    });
    $("chart-legend").replaceChildren(...items);
  }

  // -- faults --------------------------------------------------------------

  function renderFaults(faults) {
    sync($("faults"), faults, "data-fault-id", (fault) => fault.id, createFault, updateFault);
  }

  function createFault() {
    const row = make("div", "fault-row");
    const counts = make("span", "fault-counts");
    counts.append("matched ", make("span", "matched"), " · fired ", make("span", "fired"));
    const buttons = make("span", "fault-buttons");
    const toggle = make("button", "toggle");
    toggle.type = "button";
    toggle.addEventListener("click", () => toggleFault(row));
    const remove = make("button", "delete danger", "Delete");
    remove.type = "button";
    remove.addEventListener("click", () => deleteFault(row));
    buttons.append(toggle, remove);
    row.append(make("span", "fault-id"), make("span", "fault-what"), counts, buttons);
    return row;
  }

  function updateFault(row, fault) {
    setText(row.querySelector(".fault-id"), fault.id);
    const what = row.querySelector(".fault-what");
    setText(what, `${fault.kind}: ${describe(fault)}`);
    what.title = fault.description || JSON.stringify(fault);
    setText(row.querySelector(".matched"), fault.matched);
    setText(row.querySelector(".fired"), fault.fired);
    setText(row.querySelector(".toggle"), fault.enabled ? "Disable" : "Enable");
    row.dataset.enabled = String(fault.enabled);
    row.classList.toggle("disabled", !fault.enabled);
  }

  function toggleFault(row) {
    const id = row.getAttribute("data-fault-id");
    const enabled = row.dataset.enabled !== "true";
    act(`${enabled ? "enabling" : "disabling"} ${id}`, async () => {
      await api("PATCH", `/faults/${encodeURIComponent(id)}`, { enabled });
      return `${id} ${enabled ? "enabled" : "disabled"}`;
    });
  }

  function deleteFault(row) {
    const id = row.getAttribute("data-fault-id");
    act(`deleting ${id}`, async () => {
      await api("DELETE", `/faults/${encodeURIComponent(id)}`);
      return `${id} deleted`;
    });
  }

  function listed(value) {
    return Array.isArray(value) ? value.join(", ") : value;
  }

  function moment(iso) {
    return iso ? iso.slice(5, 16).replace("T", " ") : "…";
  }

  function describe(fault) {
    const match = fault.match || {};
    switch (fault.kind) {
      case "http": {
        const target = [listed(match.method), listed(match.operation_id), match.path, listed(match.tag)]
          .filter(Boolean)
          .join(" ");
        const parts = [target || "any request"];
        const action = fault.action;
        if (action) parts.push(action.type === "status" ? `→ ${action.status ?? 503}` : `→ ${action.type}`);
        if (fault.latency) parts.push(`+ ${latency(fault.latency)}`);
        if (fault.when && fault.when.probability !== undefined) parts.push(`(p ${fault.when.probability})`);
        return parts.join(" ");
      }
      case "task":
        return `${match.dag_id || "*"} / ${match.task_id || "*"} → ${fault.effect}`;
      case "scheduler_outage":
        return `scheduler down ${span(fault)}`;
      case "import_error":
        return `${fault.dag_id} does not parse ${span(fault)}`;
      case "pool_starvation":
        return `${fault.pool} at ${fault.slots} slots ${span(fault)}`;
      default:
        return "";
    }
  }

  function span(fault) {
    const when = fault.at
      ? `from ${moment(fault.at)} for ${fault.seconds} s`
      : `${moment(fault.from)} – ${moment(fault.until)}`;
    return fault.repeat ? `${when}, every ${fault.repeat}` : when;
  }

  function latency(spec) {
    if (spec.fixed !== undefined) return `${spec.fixed} s`;
    if (spec.uniform) return `${spec.uniform[0]}–${spec.uniform[1]} s`;
    if (spec.lognormal) return `~${spec.lognormal.median} s`;
    return "latency";
  }

  // The add form: which inputs a kind uses.
  const USES = {
    http503: ["for-http"],
    latency: ["for-http", "for-seconds"],
    "task-fail": ["for-task"],
    outage: ["for-seconds"],
  };

  function kindChanged() {
    const kind = $("fault-kind").value;
    for (const label of $("fault-form").querySelectorAll("label[class]")) {
      const used = USES[kind].some((name) => label.classList.contains(name));
      label.classList.toggle("unused", !used);
    }
    setText($("fault-seconds-label"), kind === "outage" ? "minutes" : "seconds");
    $("fault-seconds").placeholder = kind === "outage" ? "15" : "2";
  }

  function faultBody() {
    const kind = $("fault-kind").value;
    const operation = $("fault-operation").value.trim();
    const amount = $("fault-seconds").value.trim();
    const number = Number(amount);
    if (kind === "http503" || kind === "latency") {
      if (!operation) throw new Error("an operation id is needed (get_dags, post_dag_run, …)");
      if (kind === "http503") {
        return { kind: "http", match: { operation_id: operation }, action: { type: "status", status: 503 } };
      }
      if (!amount || !(number >= 0 && number <= 300)) throw new Error("latency: 0 to 300 seconds");
      return { kind: "http", match: { operation_id: operation }, latency: { fixed: number } };
    }
    if (kind === "task-fail") {
      const dag = $("fault-dag").value.trim();
      const task = $("fault-task").value.trim();
      if (!dag || !task) throw new Error("a DAG id and a task id are needed");
      return { kind: "task", match: { dag_id: dag, task_id: task }, effect: "fail" };
    }
    if (!amount || !(number > 0)) throw new Error("an outage lasts some minutes");
    const until = Number.isInteger(number) ? `+${number}m` : `+${Math.round(number * 60)}s`;
    return { kind: "scheduler_outage", until };
  }

  function addFault(event) {
    event.preventDefault();
    let body;
    try {
      body = faultBody();
    } catch (error) {
      setMessage(`adding a fault: ${error.message}`, true);
      return;
    }
    act("adding a fault", async () => {
      const fault = await api("POST", "/faults", body);
      return `fault ${fault.id} added`;
    });
  }

  // -- the request journal ---------------------------------------------------

  function renderJournal(entries) {
    sync($("journal"), entries, "data-entry-id", (entry) => entry.id, createEntry, updateEntry);
  }

  function createEntry() {
    const row = make("div", "entry");
    row.append(
      make("span", "time mono"),
      make("span", "method"),
      make("span", "status"),
      make("span", "path mono"),
      make("span", "fault"),
    );
    return row;
  }

  function updateEntry(row, entry) {
    setText(row.querySelector(".time"), entry.time.slice(11, 19));
    setText(row.querySelector(".method"), entry.method);
    const status = row.querySelector(".status");
    setText(status, entry.status === null ? "—" : entry.status);
    status.className = `status ${entry.status === null ? "snone" : `s${String(entry.status)[0]}xx`}`;
    const path = row.querySelector(".path");
    setText(path, entry.path);
    row.title = [
      entry.time,
      entry.operation_id || "no route",
      `${entry.duration_ms} ms`,
      entry.user ? `user ${entry.user}` : "no user",
    ].join(" · ");
    setText(row.querySelector(".fault"), entry.fault || "");
  }

  // -- scenario ------------------------------------------------------------

  let scenarioPicked = false; // the select follows the server until the user picks

  function renderScenario(scenario) {
    setText($("scenario-name"), scenario.name);
    const select = $("scenario-select");
    const bundled = Array.from(select.options).some((option) => option.value === scenario.name);
    if (!scenarioPicked && bundled && select.value !== scenario.name) select.value = scenario.name;
  }

  function loadScenario() {
    const name = $("scenario-select").value;
    act(`loading ${name}`, async () => {
      const loaded = await api("PUT", "/scenario", { name });
      scenarioPicked = false;
      return `serving ${loaded.name}`;
    });
  }

  function reset() {
    act("resetting", async () => {
      const served = await api("POST", "/reset");
      return `${served.name} reset to its start`;
    });
  }

  // -- wiring --------------------------------------------------------------

  function start() {
    $("pause").addEventListener("click", () =>
      act("pausing", async () => `clock ${(await api("PATCH", "/clock", { mode: "frozen" })).mode}`));
    $("resume").addEventListener("click", () =>
      act("resuming", async () => `clock ${(await api("PATCH", "/clock", { mode: "realtime" })).mode}`));
    for (const button of document.querySelectorAll("button.speed-preset")) {
      const speed = Number(button.dataset.speed);
      button.addEventListener("click", () =>
        act(`speed ${speed}×`, async () => `speed ${(await api("PATCH", "/clock", { speed })).speed}×`));
    }
    $("advance-1h").addEventListener("click", () => advance({ seconds: 3600 }, "1 hour"));
    $("advance-1d").addEventListener("click", () => advance({ seconds: 86400 }, "1 day"));
    $("advance-idle").addEventListener("click", () => advance({ until_idle: true }, "until idle"));
    $("fault-kind").addEventListener("change", kindChanged);
    $("fault-form").addEventListener("submit", addFault);
    $("scenario-select").addEventListener("change", () => {
      scenarioPicked = true;
    });
    $("scenario-load").addEventListener("click", loadScenario);
    $("reset").addEventListener("click", reset);
    $("token-form").addEventListener("submit", tokenSaved);
    $("token-dialog").addEventListener("cancel", (event) => event.preventDefault());
    kindChanged();
    // The server says whether it wants a token: asked for before the first
    // call, not after a 401.
    const wanted = document.querySelector('meta[name="control-token"]');
    if (wanted && wanted.content === "required" && !(storedToken() || memoryToken)) {
      setStatus("waiting for the control token", false);
      askToken("a control token is required");
    } else {
      poll();
    }
  }

  start();
})();
