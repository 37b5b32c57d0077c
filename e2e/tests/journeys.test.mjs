// Browser journeys for Cartable: the real binary (`cartable demo`) on a random
// port with a fresh data directory, driven by playwright-core in Debian's
// Chromium. Every page visited is checked with axe-core (WCAG 2.1 A/AA) and
// photographed on a desktop and a phone viewport into e2e/test-results/.
//
// Run with `bash e2e/run.sh` from the repository root, or `node --test tests/`
// from e2e/ once the binary is built.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO_ROOT = path.resolve(E2E_DIR, '..');
const RESULTS_DIR = path.join(E2E_DIR, 'test-results');
const AXE_PATH = require.resolve('axe-core/axe.min.js');

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 360, height: 740 },
];
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const NAV_TIMEOUT = 15_000;
const ACTION_TIMEOUT = 10_000;
const STARTUP_TIMEOUT = 30_000;
const TEST_TIMEOUT = 60_000;
const PAGE_BUDGET_BYTES = 30 * 1024;

const NEW_PASSWORD = 'une phrase facile à retenir 2026';

function cartableBin() {
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

// ------------------------------------------------------- checks on each page

let shotCounter = 0;
const axeSummary = []; // { page, viewport, serious, other }

/**
 * Runs axe-core on the current page on both viewports, takes a full-page
 * screenshot of each, and fails on any serious or critical violation.
 */
async function checkPage(page, name) {
  shotCounter += 1;
  const stem = `${String(shotCounter).padStart(2, '0')}-${name}`;
  const failures = [];
  const original = page.viewportSize();
  try {
    for (const vp of VIEWPORTS) {
      await page.setViewportSize({ width: vp.width, height: vp.height });
      await page.screenshot({ path: path.join(RESULTS_DIR, `${stem}-${vp.name}.png`), fullPage: true });
      if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
        await page.addScriptTag({ path: AXE_PATH });
      }
      const results = await page.evaluate(
        (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
        AXE_TAGS,
      );
      const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      const other = results.violations.filter((v) => !serious.includes(v));
      axeSummary.push({ page: name, viewport: vp.name, serious: serious.length, other: other.length });
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
    if (original) await page.setViewportSize(original);
  }
  assert.equal(failures.length, 0, `axe-core, page « ${name} » (${page.url()}) :\n  ${failures.join('\n  ')}`);
}

// ------------------------------------------------------------------ helpers

let server;
let browser;

async function newContext() {
  const context = await browser.newContext({
    baseURL: server.url,
    bypassCSP: true, // axe-core is injected as a script; the site's CSP forbids that
    viewport: { width: VIEWPORTS[0].width, height: VIEWPORTS[0].height },
    locale: 'fr-FR',
  });
  context.setDefaultTimeout(ACTION_TIMEOUT);
  context.setDefaultNavigationTimeout(NAV_TIMEOUT);
  return context;
}

async function goto(page, url, expectedStatus = 200) {
  const response = await page.goto(url);
  assert.ok(response, `pas de réponse pour ${url}`);
  assert.equal(response.status(), expectedStatus, `${url} : statut ${response.status()}`);
  return response;
}

/** Fills the login form by its labels and submits it. */
async function logIn(page, login, password) {
  await goto(page, '/connexion');
  await page.getByLabel('Identifiant', { exact: true }).fill(login);
  await page.getByLabel('Mot de passe', { exact: true }).fill(password);
  await Promise.all([
    page.waitForNavigation(),
    page.getByRole('button', { name: 'Se connecter' }).click(),
  ]);
}

async function text(locator) {
  await locator.first().waitFor();
  return (await locator.first().innerText()).replace(/\s+/g, ' ').trim();
}

function account(login, role) {
  const a = server.logins.find((l) => l.login === login) ?? server.logins.find((l) => l.role === role);
  assert.ok(a, `compte de démo introuvable : ${login} (${role})`);
  return a;
}

async function heading1(page) {
  return text(page.locator('h1'));
}

/** Reads the id of a person from the admin's people list. */
async function personId(adminPage, role, lastName, firstName) {
  await goto(adminPage, `/admin/personnes?role=${role}`);
  const row = adminPage.locator('tbody tr').filter({ hasText: lastName }).filter({ hasText: firstName });
  const href = await row.first().getByRole('link').first().getAttribute('href');
  const m = /^\/personnes\/(.+)$/.exec(href ?? '');
  assert.ok(m, `lien inattendu pour ${firstName} ${lastName} : ${href}`);
  return m[1];
}

// ----------------------------------------------------------------- journeys

describe('Cartable, parcours dans Chromium', { timeout: 110_000 }, () => {
  before(async () => {
    rmSync(RESULTS_DIR, { recursive: true, force: true });
    mkdirSync(RESULTS_DIR, { recursive: true });
    const started = startServer();
    server = started.server;
    // Belt and braces: never leave the server behind, whatever happens.
    process.once('exit', () => {
      if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    });
    await started.ready;
    console.log(`  serveur : ${server.url} (${server.logins.length} comptes de démo)`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      timeout: STARTUP_TIMEOUT,
    });
  });

  after(async () => {
    try {
      await browser?.close();
    } finally {
      await stopServer(server);
      const pages = new Set(axeSummary.map((s) => s.page)).size;
      const serious = axeSummary.reduce((n, s) => n + s.serious, 0);
      const other = axeSummary.reduce((n, s) => n + s.other, 0);
      console.log(`  axe-core : ${pages} pages × ${VIEWPORTS.length} formats, ${serious} violation(s) graves, ${other} autre(s)`);
    }
  });

  it('élève : connexion, accueil, classe, déconnexion (et poids de la page)', { timeout: TEST_TIMEOUT }, async () => {
    const lea = account('lea.martin', 'pupil');
    const context = await newContext();
    try {
      const page = await context.newPage();
      await goto(page, '/connexion');
      assert.equal(await heading1(page), 'Connexion');
      await checkPage(page, 'connexion');

      await logIn(page, lea.login, lea.password);
      assert.equal(new URL(page.url()).pathname, '/');
      assert.equal(await heading1(page), 'Bonjour Léa');
      const classCard = page.locator('section.card').filter({ has: page.getByRole('heading', { name: /Ma classe/ }) });
      assert.match(await text(classCard.getByRole('heading', { level: 2 })), /Ma classe : 6e A/);
      assert.match(await text(classCard.locator('li').filter({ hasText: 'Camille Lefèvre' })), /Camille Lefèvre — Mathématiques/);
      assert.match(await text(classCard.locator('li').filter({ hasText: 'Antoine Moreau' })), /Français/);
      await checkPage(page, 'eleve-accueil');

      // Page weight: a fresh context (empty cache) with the same session loads
      // the dashboard; count what crosses the wire for the document and CSS.
      const weightContext = await browser.newContext({
        baseURL: server.url,
        storageState: await context.storageState(),
      });
      try {
        const weightPage = await weightContext.newPage();
        weightPage.setDefaultNavigationTimeout(NAV_TIMEOUT);
        const responses = [];
        weightPage.on('response', (r) => responses.push(r));
        await weightPage.goto('/', { waitUntil: 'load' });
        assert.equal(await heading1(weightPage), 'Bonjour Léa');
        let total = 0;
        const parts = [];
        for (const r of responses) {
          assert.equal(new URL(r.url()).origin, server.url, `ressource externe chargée : ${r.url()}`);
          await r.finished();
          const type = r.request().resourceType();
          const sizes = await r.request().sizes();
          const decoded = (await r.body()).length;
          const wire = sizes.responseBodySize + sizes.responseHeadersSize;
          total += wire;
          parts.push(`${type} ${new URL(r.url()).pathname} ${wire} o (corps ${sizes.responseBodySize} o, ${r.headers()['content-encoding'] ?? 'non compressé'}, ${decoded} o décompressé)`);
        }
        assert.ok(responses.some((r) => r.request().resourceType() === 'document'), 'document non mesuré');
        assert.ok(responses.some((r) => r.request().resourceType() === 'stylesheet'), 'feuille de style non mesurée');
        console.log(`  poids de l'accueil élève : ${total} octets (${(total / 1024).toFixed(1)} Ko) sur le réseau, en-têtes compris\n    ${parts.join('\n    ')}`);
        assert.ok(total < PAGE_BUDGET_BYTES, `accueil élève : ${total} octets, au-delà du budget de ${PAGE_BUDGET_BYTES}`);
      } finally {
        await weightContext.close();
      }

      await Promise.all([page.waitForNavigation(), classCard.getByRole('link', { name: '6e A' }).click()]);
      assert.match(new URL(page.url()).pathname, /^\/classes\//);
      assert.equal(await heading1(page), 'Classe 6e A');
      assert.match(await text(page.locator('.people li').filter({ hasText: 'Camille Lefèvre' })), /Mathématiques/);
      await checkPage(page, 'eleve-classe');

      await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Mon compte' }).click()]);
      assert.equal(await heading1(page), 'Mon compte');
      assert.match(await text(page.locator('main')), /Identifiant : lea\.martin/);
      await checkPage(page, 'eleve-compte');

      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Se déconnecter' }).click()]);
      assert.equal(new URL(page.url()).pathname, '/connexion');
      assert.equal(await heading1(page), 'Connexion');
      assert.equal(await page.getByRole('button', { name: 'Se déconnecter' }).count(), 0);
      // The session is gone: the home page sends back to the login form.
      await goto(page, '/');
      assert.equal(new URL(page.url()).pathname, '/connexion');
    } finally {
      await context.close();
    }
  });

  it('parent : voit ses deux enfants, pas ceux des autres (403)', { timeout: TEST_TIMEOUT }, async () => {
    // Another family's child, read from the admin's list in a separate context.
    const admin = account('michel.roux', 'school_admin');
    const adminContext = await newContext();
    let chloeId;
    try {
      const adminPage = await adminContext.newPage();
      await logIn(adminPage, admin.login, admin.password);
      chloeId = await personId(adminPage, 'pupil', 'Bernard', 'Chloé');
      await checkPage(adminPage, 'admin-personnes-eleves');
    } finally {
      await adminContext.close();
    }

    const sophie = account('sophie.martin', 'parent');
    const context = await newContext();
    try {
      const page = await context.newPage();
      await logIn(page, sophie.login, sophie.password);
      assert.equal(await heading1(page), 'Bonjour Sophie');

      const lea = page.locator('section.card').filter({ has: page.getByRole('heading', { name: 'Léa Martin' }) });
      const hugo = page.locator('section.card').filter({ has: page.getByRole('heading', { name: 'Hugo Martin' }) });
      assert.match(await text(lea), /Classe : 6e A/);
      assert.match(await text(lea.locator('li').filter({ hasText: 'Camille Lefèvre' })), /Mathématiques/);
      assert.match(await text(hugo), /Classe : 4e B/);
      assert.match(await text(hugo.locator('li').filter({ hasText: 'Antoine Moreau' })), /Français.*professeur principal/);
      assert.match(await text(hugo.locator('li').filter({ hasText: 'Paul Fournier' })), /Histoire-géographie/);
      assert.equal(await page.locator('section.card h2').count(), 2, 'exactement deux enfants');
      await checkPage(page, 'parent-accueil');

      // Her own child's page opens.
      await Promise.all([page.waitForNavigation(), lea.getByRole('link', { name: 'Léa Martin' }).click()]);
      assert.equal(await heading1(page), 'Léa Martin');
      await checkPage(page, 'parent-enfant');

      // Another family's child: refused, in French.
      await goto(page, `/personnes/${chloeId}`, 403);
      assert.equal(await heading1(page), 'Accès refusé');
      assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
      assert.doesNotMatch(await page.locator('body').innerText(), /Chloé/);
      await checkPage(page, 'parent-acces-refuse');
    } finally {
      await context.close();
    }
  });

  it('administrateur : import CSV, codes, activation du nouveau compte', { timeout: TEST_TIMEOUT }, async () => {
    const csvDir = mkdtempSync(path.join(tmpdir(), 'cartable-e2e-csv-'));
    const csvPath = path.join(csvDir, 'nouveaux-eleves.csv');
    writeFileSync(csvPath, 'Nom;Prénom;Date de naissance;Classe\nNouveau;Élève;01/02/2013;6e A\n');
    const admin = account('michel.roux', 'school_admin');
    const context = await newContext();
    let login;
    let code;
    try {
      const page = await context.newPage();
      await logIn(page, admin.login, admin.password);
      assert.equal(await heading1(page), 'Bonjour Michel');
      await checkPage(page, 'admin-accueil');

      await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Classes', exact: true }).click()]);
      assert.equal(await heading1(page), 'Classes');
      assert.equal(await page.locator('tbody tr').count(), 3);
      await checkPage(page, 'admin-classes');

      await goto(page, '/');
      await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Journal' }).click()]);
      assert.equal(await heading1(page), "Journal de l'établissement");
      await checkPage(page, 'admin-journal');

      await goto(page, '/');

      await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: /Importer des comptes/ }).click()]);
      assert.equal(await heading1(page), 'Importer des comptes');
      await checkPage(page, 'admin-import');

      await page.getByLabel(/Fichier CSV/).setInputFiles(csvPath);
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: "Voir l'aperçu" }).click()]);
      assert.equal(await heading1(page), "Aperçu de l'import");
      const row = page.locator('table.report tbody tr').filter({ hasText: 'Nouveau' });
      assert.match(await text(row), /Création/);
      assert.equal(await page.locator('table.report tbody tr').count(), 1);
      await checkPage(page, 'admin-import-apercu');

      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: "Appliquer l'import" }).click()]);
      assert.equal(await heading1(page), 'Import terminé');
      assert.match(await text(page.getByRole('status')), /1 compte créé/);
      await checkPage(page, 'admin-import-termine');

      await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: "Imprimer les codes d'activation" }).click()]);
      assert.equal(await heading1(page), "Codes d'activation");
      // Only the new pupil: untick everyone else the selection may hold.
      const boxes = page.locator('.checklist li');
      const n = await boxes.count();
      assert.ok(n >= 1, 'la liste des comptes à activer est vide');
      let found = 0;
      for (let i = 0; i < n; i++) {
        const li = boxes.nth(i);
        const isNew = /Nouveau Élève/.test(await li.innerText());
        found += isNew ? 1 : 0;
        await li.getByRole('checkbox').setChecked(isNew);
      }
      assert.equal(found, 1, 'le nouvel élève doit figurer une fois dans la liste');
      await checkPage(page, 'admin-codes');

      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Générer les feuilles à imprimer' }).click()]);
      assert.equal(await heading1(page), 'Codes à imprimer');
      const slip = page.locator('section.slip');
      assert.equal(await slip.count(), 1);
      assert.match(await text(slip), /Élève Nouveau|Nouveau Élève/);
      assert.match(await text(slip), /6e A/);
      code = await text(slip.locator('dd.code'));
      assert.match(code, /^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/, `code inattendu : ${code}`);
      login = await text(slip.locator('dt:has-text("Identifiant") + dd'));
      assert.ok(login.length > 0);
      await checkPage(page, 'admin-feuilles-codes');
    } finally {
      await context.close();
      rmSync(csvDir, { recursive: true, force: true });
    }

    // A fresh browser: the new pupil activates the account with the slip.
    const pupilContext = await newContext();
    try {
      const page = await pupilContext.newPage();
      await goto(page, '/connexion');
      await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: /Activez votre compte/ }).click()]);
      assert.equal(new URL(page.url()).pathname, '/activation');
      assert.equal(await heading1(page), 'Première connexion');
      await checkPage(page, 'activation');
      await page.getByLabel('Identifiant', { exact: true }).fill(login);
      await page.getByLabel("Code d'activation", { exact: true }).fill(code);
      await page.getByLabel('Nouveau mot de passe', { exact: true }).fill(NEW_PASSWORD);
      await page.getByLabel('Confirmez le mot de passe', { exact: true }).fill(NEW_PASSWORD);
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Activer mon compte' }).click()]);
      assert.equal(new URL(page.url()).pathname, '/');
      assert.equal(await heading1(page), 'Bonjour Élève');
      assert.match(await text(page.getByRole('heading', { name: /Ma classe/ })), /6e A/);
      await checkPage(page, 'nouvel-eleve-accueil');

      // The code is single-use; the new password works.
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Se déconnecter' }).click()]);
      await logIn(page, login, NEW_PASSWORD);
      assert.equal(await heading1(page), 'Bonjour Élève');
    } finally {
      await pupilContext.close();
    }
  });

  it('mot de passe erroné : message en français, role=alert', { timeout: TEST_TIMEOUT }, async () => {
    const pupil = account('jules.petit', 'pupil');
    const context = await newContext();
    try {
      const page = await context.newPage();
      await logIn(page, pupil.login, 'pas-le-bon-mot-de-passe');
      assert.equal(new URL(page.url()).pathname, '/connexion');
      const alert = page.getByRole('alert');
      assert.equal(await text(alert), 'Identifiant ou mot de passe incorrect.');
      // The login is kept, the password is not.
      assert.equal(await page.getByLabel('Identifiant', { exact: true }).inputValue(), pupil.login);
      assert.equal(await page.getByLabel('Mot de passe', { exact: true }).inputValue(), '');
      await checkPage(page, 'connexion-erreur');
    } finally {
      await context.close();
    }
  });
});
