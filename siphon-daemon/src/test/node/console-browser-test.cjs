// Drives the web console in headless Chromium through Playwright, step by step with the JUnit test
// that runs it (ConsoleBrowserTest): this script prints "STEP name" on stdout when it needs the
// Java side, which answers "GO" on stdin once it has done its part or checked the daemon. Any
// failure exits non-zero with the reason on stderr.
"use strict";
const { chromium } = require(process.env.PLAYWRIGHT_CORE);
const readline = require("readline");

const url = process.env.CONSOLE_URL;
const token = process.env.CONSOLE_TOKEN;
const screenshot = process.env.CONSOLE_SCREENSHOT;
const lines = readline.createInterface({ input: process.stdin });
const answers = [];
const waiting = [];
lines.on("line", (line) => (waiting.length ? waiting.shift()(line) : answers.push(line)));

async function step(name) {
  process.stdout.write("STEP " + name + "\n");
  const line = answers.length ? answers.shift() : await new Promise((resolve) => waiting.push(resolve));
  if (line !== "GO") throw new Error("step " + name + ": the test answered " + line);
}

const disk = '[data-disk="web/vda"]';

async function progress(page) {
  const value = await page.locator(disk + " [role=progressbar]").getAttribute("aria-valuenow");
  return Number(value);
}

async function copiedCells(page) {
  const cells = await page.locator(disk + " .map").getAttribute("data-cells");
  return (cells.match(/[Tt]/g) || []).length;
}

/** Waits until fn() resolves truthy, re-checking as the page updates, for at most ms. */
async function until(what, fn, ms = 30000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await fn()) return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    if (Date.now() > deadline) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const operator = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await operator.newPage();
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    await page.goto(url);
    await page.locator("#connection", { hasText: "live" }).waitFor();
    await page.locator(disk).waitFor();
    await page.locator(disk + " .map").waitFor();
    if ((await copiedCells(page)) !== 0) throw new Error("the map shows copied data before any pull");
    if (!(await page.locator(disk + ' button[data-action="pull"]').isDisabled()))
      throw new Error("a visitor without the token sees an enabled Pull button");

    await step("page-loaded"); // the test starts a pull through the API
    await page.locator(disk + " .job").waitFor();
    const first = await progress(page);
    const firstCells = await copiedCells(page);
    await until("progress to advance", async () => (await progress(page)) > first);
    await until("the allocation map to fill in", async () => (await copiedCells(page)) > firstCells);
    await until("a fifth of the pull", async () => (await progress(page)) >= 20);
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });

    // unlock with the token, pause from the page
    await page.fill("#token", token);
    await page.click("#token-use");
    await page.locator("#mode", { hasText: "write access" }).waitFor();
    await page.locator(disk + ' button[data-action="pause"]:not([disabled])').click();
    await page.locator(disk + ' .job[data-state="PAUSED"]').waitFor();
    const pausedAt = await progress(page);
    await step("paused"); // the test checks the daemon's job is paused, and still is after a while
    if ((await progress(page)) !== pausedAt) throw new Error("progress moved while paused");

    // a read-only visitor: every button disabled, and a forged request without the token refused
    const visitor = await browser.newContext();
    const other = await visitor.newPage();
    await other.goto(url);
    await other.locator(disk + " .job").waitFor();
    const enabled = await other.locator(disk + " .actions button:not([disabled])").count();
    if (enabled !== 0) throw new Error("a read-only visitor has " + enabled + " enabled buttons");
    const forged = await other.evaluate(async () => {
      const statuses = [];
      for (const action of ["resume", "abort", "speed"]) {
        const reply = await fetch("/api/domains/web/disks/vda/" + action, {
          method: "POST", headers: { "Content-Type": "application/json" }, body: '{"bytesPerSecond":1}' });
        statuses.push(reply.status);
      }
      return statuses;
    });
    if (forged.some((s) => s !== 403)) throw new Error("requests without the token answered " + forged);
    await step("visitor-refused"); // the test checks nothing changed: still paused, same speed

    await page.locator(disk + ' button[data-action="resume"]:not([disabled])').click();
    await page.locator(disk + ' .job[data-state="RUNNING"]').waitFor();
    await until("progress after resume", async () => (await progress(page)) > pausedAt);
    await step("resumed"); // the test lifts the speed limit and waits for the end
    await page.locator(disk + " .last.COMPLETED").waitFor();
    await until("the map to be all top", async () =>
      /^T+$/.test(await page.locator(disk + " .map").getAttribute("data-cells")));
    if (pageErrors.length) throw new Error("the page threw: " + pageErrors.join("; "));
    await step("done");
  } finally {
    await browser.close();
    lines.close();
  }
})().then(() => process.exit(0), (e) => {
  process.stderr.write("console browser test failed: " + (e && e.stack ? e.stack : e) + "\n");
  process.exit(1);
});
