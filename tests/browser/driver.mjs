// A headless Chromium driven one command at a time, for kea's page tests
// (services/kea/tests/it/console.rs): each line on standard input is a JSON command, each answer
// one JSON line on standard output ({"ok": true, ...} or {"ok": false, "error": "..."}).
// The browser is the system's Chromium (CHROMIUM, default /usr/bin/chromium), through
// playwright-core; the page under test is plain kea, as a person's browser would see it.

import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--no-first-run'],
});
const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
const page = await context.newPage();
// Whole-document loads only: a history.replaceState is not a reload.
let navigations = 0;
page.on('load', () => { navigations += 1; });
const consoleErrors = [];
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
page.on('pageerror', (e) => consoleErrors.push(String(e)));

const commands = {
  async url() {
    return { url: page.url() };
  },
  async goto({ url }) {
    const res = await page.goto(url);
    return { status: res ? res.status() : null, url: page.url() };
  },
  async fill({ label, value }) {
    await page.getByLabel(label, { exact: true }).fill(value);
    return {};
  },
  async select({ label, value }) {
    await page.getByLabel(label, { exact: true }).selectOption(value);
    return {};
  },
  // Clicks a button by its accessible name and waits for the page it leads to.
  async click({ button }) {
    await Promise.all([
      page.waitForLoadState('load'),
      page.getByRole('button', { name: button, exact: false }).first().click(),
    ]);
    await page.waitForLoadState('load');
    return { url: page.url() };
  },
  // A keyboard shortcut; waits for the navigation it causes: always when `navigates` (a
  // shortcut that submits a form), else if one starts within 200 ms.
  async press({ key, navigates }) {
    if (navigates) {
      // Wait for the next whole-document load (live updates rewrite the URL in place, which
      // Playwright's own navigation wait would take for this one).
      const loads = navigations;
      await page.keyboard.press(key);
      const deadline = Date.now() + 20000;
      while (navigations === loads) {
        if (Date.now() > deadline) throw new Error(`no page load after pressing ${key}`);
        await page.waitForTimeout(20);
      }
      await page.waitForLoadState('load');
      return { url: page.url() };
    }
    const before = navigations;
    await page.keyboard.press(key);
    await page.waitForTimeout(200);
    if (navigations !== before) await page.waitForLoadState('load');
    return { url: page.url() };
  },
  // Waits until `selector` is in the page; reports how many navigations happened meanwhile, so a
  // test can tell live updates from reloads.
  async wait({ selector, timeout }) {
    const before = navigations;
    await page.waitForSelector(selector, { timeout: timeout ?? 20000 });
    return { at: Date.now(), navigations: navigations - before };
  },
  async text({ selector }) {
    const el = await page.$(selector);
    return { text: el ? (await el.textContent()).trim() : null };
  },
  async value({ selector }) {
    const el = await page.$(selector);
    return { value: el ? await el.inputValue() : null };
  },
  async count({ selector }) {
    return { count: (await page.$$(selector)).length };
  },
  async screenshot({ path }) {
    await page.screenshot({ path, fullPage: true });
    return { path };
  },
  // What a person relying on the keyboard or a screen reader meets: unlabelled form fields,
  // images without text, and the order the Tab key visits the controls.
  async audit() {
    return page.evaluate(() => {
      const unlabelled = [];
      for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
        const labelled = (el.id && document.querySelector(`label[for="${el.id}"]`)) ||
          el.closest('label') || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
        if (!labelled) unlabelled.push(el.outerHTML.slice(0, 120));
      }
      const buttons = [...document.querySelectorAll('button')].filter((b) => !b.textContent.trim() && !b.getAttribute('aria-label'));
      const positiveTabindex = [...document.querySelectorAll('[tabindex]')].filter((e) => Number(e.getAttribute('tabindex')) > 0).length;
      return { unlabelled, unnamedButtons: buttons.length, positiveTabindex, lang: document.documentElement.lang };
    });
  },
  async errors() {
    return { errors: consoleErrors.splice(0) };
  },
};

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  let answer;
  try {
    const command = JSON.parse(line);
    if (command.cmd === 'close') break;
    const run = commands[command.cmd];
    if (!run) throw new Error(`unknown command ${command.cmd}`);
    answer = { ok: true, ...(await run(command)) };
  } catch (e) {
    answer = { ok: false, error: String(e && e.message ? e.message : e) };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
await browser.close();
