// Shared machinery for the browser tests of Cartable: the real binary
// (`cartable demo`) on a random port with a fresh data directory, Debian's
// Chromium driven by playwright-core, and on every page visited an axe-core
// check (WCAG 2.1 A/AA, failing on serious or critical violations) plus a
// full-page screenshot on a desktop and a phone viewport.
//
// Each test file makes one `Harness`, starts it in `before` and stops it in
// `after`; the server is killed whatever happens. Screenshots of a file land in
// their own folder, e2e/test-results/<suite>/, so that test files running in
// parallel never wipe each other's pictures.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
export const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(E2E_DIR, '..');
export const RESULTS_DIR = path.join(E2E_DIR, 'test-results');
const AXE_PATH = require.resolve('axe-core/axe.min.js');

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
export const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 360, height: 740 },
];
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
export const NAV_TIMEOUT = 15_000;
export const ACTION_TIMEOUT = 10_000;
export const STARTUP_TIMEOUT = 30_000;
export const TEST_TIMEOUT = 60_000;

export function cartableBin() {
  if (process.env.CARTABLE_BIN) return path.resolve(process.env.CARTABLE_BIN);
  if (process.env.CARGO_TARGET_DIR) {
    // cargo resolves a relative CARGO_TARGET_DIR against where it runs; run.sh
    // builds from the repository root.
    return path.resolve(REPO_ROOT, process.env.CARGO_TARGET_DIR, 'debug', 'cartable');
  }
  return path.resolve(E2E_DIR, '..', 'target', 'debug', 'cartable');
}

// ---------------------------------------------------------------- the server

/** Starts `cartable demo` and resolves with its URL and demo logins. */
function startServer() {
  const bin = cartableBin();
  if (!existsSync(bin)) {
    throw new Error(`binaire introuvable : ${bin} (construisez-le avec \`cargo build -p cartable\` ou fixez CARTABLE_BIN)`);
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cartable-e2e-'));
  const child = spawn(bin, ['demo', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
  });
  const server = { child, dataDir, url: null, logins: [], stderr: '' };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    server.stderr = (server.stderr + d).slice(-20_000);
  });
  const ready = new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(
      () => reject(new Error(`le serveur n'a pas démarré en ${STARTUP_TIMEOUT} ms\n${server.stderr}`)),
      STARTUP_TIMEOUT,
    );
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`le serveur s'est arrêté (code ${code}, signal ${signal})\n${server.stderr}`));
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        const login = /^(pupil|parent|teacher|staff|school_admin|operator) (\S+) (\S+)$/.exec(line);
        if (login) server.logins.push({ role: login[1], login: login[2], password: login[3] });
        const listening = /^Cartable écoute sur (http:\/\/\S+)$/.exec(line);
        if (listening && !server.url) {
          server.url = listening[1].replace(/\/$/, '');
          clearTimeout(timer);
          resolve(server);
        }
      }
    });
  });
  return { server, ready };
}

async function stopServer(server) {
  if (!server) return;
  const { child } = server;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timeout = new Promise((r) => setTimeout(r, 3_000, 'timeout'));
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  }
  rmSync(server.dataDir, { recursive: true, force: true });
}

// ------------------------------------------------------------------ harness

export class Harness {
  /** @param {string} suite short name; screenshots go to test-results/<suite>/ */
  constructor(suite) {
    this.suite = suite;
    this.resultsDir = path.join(RESULTS_DIR, suite);
    this.server = null;
    this.browser = null;
    this.shotCounter = 0;
    this.axeSummary = []; // { page, viewport, serious, other }
    this.noScript = new WeakSet(); // contexts made with JavaScript off
    this.auditor = null; // a JavaScript-enabled page for axe, see checkPage
  }

  async start() {
    rmSync(this.resultsDir, { recursive: true, force: true });
    mkdirSync(this.resultsDir, { recursive: true });
    const started = startServer();
    this.server = started.server;
    // Belt and braces: never leave the server behind, whatever happens.
    process.once('exit', () => {
      if (this.server?.child.exitCode === null) this.server.child.kill('SIGKILL');
    });
    await started.ready;
    console.log(`  serveur : ${this.server.url} (${this.server.logins.length} comptes de démo)`);
    this.browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      timeout: STARTUP_TIMEOUT,
    });
  }

  async stop() {
    try {
      await this.browser?.close();
    } finally {
      await stopServer(this.server);
      const pages = new Set(this.axeSummary.map((s) => s.page)).size;
      const serious = this.axeSummary.reduce((n, s) => n + s.serious, 0);
      const other = this.axeSummary.reduce((n, s) => n + s.other, 0);
      console.log(`  axe-core : ${pages} pages × ${VIEWPORTS.length} formats, ${serious} violation(s) graves, ${other} autre(s)`);
    }
  }

  /**
   * A fresh browser context (no cookies) on the server. With
   * `{ javaScript: false }` the pages run with JavaScript disabled, which is
   * how the messaging journey proves the site needs none.
   */
  async newContext({ javaScript = true } = {}) {
    const context = await this.browser.newContext({
      baseURL: this.server.url,
      bypassCSP: true, // axe-core is injected as a script; the site's CSP forbids that
      javaScriptEnabled: javaScript,
      acceptDownloads: true,
      viewport: { width: VIEWPORTS[0].width, height: VIEWPORTS[0].height },
      locale: 'fr-FR',
    });
    context.setDefaultTimeout(ACTION_TIMEOUT);
    context.setDefaultNavigationTimeout(NAV_TIMEOUT);
    if (!javaScript) this.noScript.add(context);
    return context;
  }

  account(login, role) {
    const a = this.server.logins.find((l) => l.login === login) ?? this.server.logins.find((l) => l.role === role);
    assert.ok(a, `compte de démo introuvable : ${login} (${role})`);
    return a;
  }

  /**
   * axe-core needs JavaScript. On a page whose context runs without it, the
   * page's own HTML (as the browser parsed it) is replayed at the same URL in
   * a JavaScript-enabled page: same document, same stylesheet from the server,
   * no second request to the application (so nothing is marked read or
   * posted twice).
   */
  async auditPageFor(page) {
    if (!this.noScript.has(page.context())) return page;
    if (!this.auditor) {
      const ctx = await this.newContext();
      this.auditor = await ctx.newPage();
    }
    const auditor = this.auditor;
    // The site promises to work without JavaScript: it ships none at all.
    assert.equal(await page.locator('script').count(), 0, `${page.url()} contient un élément <script>`);
    const html = await page.evaluate(serializeWithFormState);
    const target = page.url().split('#')[0];
    const matcher = (u) => u.href.split('#')[0] === target;
    await auditor.route(matcher, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }),
    );
    try {
      // A URL that differs from the auditor's current one only by its #fragment
      // would be a same-document navigation (no reload): go through a blank page.
      await auditor.goto('about:blank');
      await auditor.goto(page.url(), { waitUntil: 'load' });
    } finally {
      await auditor.unroute(matcher);
    }
    await auditor.setViewportSize(page.viewportSize() ?? { width: VIEWPORTS[0].width, height: VIEWPORTS[0].height });
    return auditor;
  }

  /**
   * Runs axe-core on the current page on both viewports, takes a full-page
   * screenshot of each, and fails on any serious or critical violation.
   */
  async checkPage(page, name) {
    this.shotCounter += 1;
    const stem = `${String(this.shotCounter).padStart(2, '0')}-${name}`;
    const failures = [];
    const target = await this.auditPageFor(page);
    const original = target.viewportSize();
    try {
      for (const vp of VIEWPORTS) {
        await target.setViewportSize({ width: vp.width, height: vp.height });
        await target.screenshot({ path: path.join(this.resultsDir, `${stem}-${vp.name}.png`), fullPage: true });
        if (!(await target.evaluate(() => typeof window.axe !== 'undefined'))) {
          await target.addScriptTag({ path: AXE_PATH });
        }
        const results = await target.evaluate(
          (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
          AXE_TAGS,
        );
        const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        const other = results.violations.filter((v) => !serious.includes(v));
        this.axeSummary.push({ page: name, viewport: vp.name, serious: serious.length, other: other.length });
        for (const v of other) {
          console.log(`  axe (${v.impact}, non bloquant) ${name} [${vp.name}] ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`);
        }
        for (const v of serious) {
          failures.push(
            `${v.id} (${v.impact}) [${vp.name}] ${v.help}\n` +
              v.nodes.map((n) => `      ${n.target.join(' ')} — ${n.failureSummary?.split('\n').join(' ')}`).join('\n'),
          );
        }
      }
    } finally {
      if (original) await target.setViewportSize(original);
    }
    assert.equal(failures.length, 0, `axe-core, page « ${name} » (${page.url()}) :\n  ${failures.join('\n  ')}`);
  }
}

/**
 * The document as HTML, with what was typed, ticked or chosen in its forms
 * written back into attributes (serialising the DOM alone loses it), so that
 * the replayed copy looks like the page the person sees. Runs in the page.
 */
function serializeWithFormState() {
  const clone = document.documentElement.cloneNode(true);
  const fields = 'input, textarea, select';
  const originals = document.documentElement.querySelectorAll(fields);
  const copies = clone.querySelectorAll(fields);
  originals.forEach((el, i) => {
    const copy = copies[i];
    if (el instanceof HTMLTextAreaElement) {
      copy.textContent = el.value;
    } else if (el instanceof HTMLSelectElement) {
      Array.from(el.options).forEach((o, j) => copy.options[j].toggleAttribute('selected', o.selected));
    } else if (el.type === 'checkbox' || el.type === 'radio') {
      copy.toggleAttribute('checked', el.checked);
    } else if (el.type !== 'file' && el.type !== 'password') {
      copy.setAttribute('value', el.value);
    }
  });
  // <details> keeps its open state as an attribute already.
  const doctype = document.doctype ? `<!doctype ${document.doctype.name}>` : '';
  return doctype + clone.outerHTML;
}

// ------------------------------------------------------------------ helpers

export async function goto(page, url, expectedStatus = 200) {
  const response = await page.goto(url);
  assert.ok(response, `pas de réponse pour ${url}`);
  assert.equal(response.status(), expectedStatus, `${url} : statut ${response.status()}`);
  return response;
}

/** Clicks something that submits a form or follows a link, and waits for the new page. */
export async function clickAndWait(page, locator) {
  await Promise.all([page.waitForNavigation(), locator.click()]);
}

/** Fills the login form by its labels and submits it. */
export async function logIn(page, login, password) {
  await goto(page, '/connexion');
  await page.getByLabel('Identifiant', { exact: true }).fill(login);
  await page.getByLabel('Mot de passe', { exact: true }).fill(password);
  await clickAndWait(page, page.getByRole('button', { name: 'Se connecter' }));
}

/** The visible text of the first match, whitespace collapsed. */
export async function text(locator) {
  await locator.first().waitFor();
  return (await locator.first().innerText()).replace(/\s+/g, ' ').trim();
}

export async function heading1(page) {
  return text(page.locator('h1'));
}

export function pathname(page) {
  return new URL(page.url()).pathname;
}
