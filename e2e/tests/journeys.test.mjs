// Browser journeys for Cartable: the real binary (`cartable demo`) on a random
// port with a fresh data directory, driven by playwright-core in Debian's
// Chromium. Every page visited is checked with axe-core (WCAG 2.1 A/AA) and
// photographed on a desktop and a phone viewport into e2e/test-results/parcours/.
// The shared machinery (server, browser, axe, screenshots) is in support.mjs.
//
// Run with `bash e2e/run.sh` from the repository root, or `node --test tests/`
// from e2e/ once the binary is built.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  Harness, NAV_TIMEOUT, TEST_TIMEOUT, goto, logIn, text, heading1,
} from './support.mjs';

const PAGE_BUDGET_BYTES = 30 * 1024;

const NEW_PASSWORD = 'une phrase facile à retenir 2026';

const h = new Harness('parcours');
const newContext = () => h.newContext();
const checkPage = (page, name) => h.checkPage(page, name);
const account = (login, role) => h.account(login, role);

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
  before(() => h.start());
  after(() => h.stop());

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
      const weightContext = await h.browser.newContext({
        baseURL: h.server.url,
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
          assert.equal(new URL(r.url()).origin, h.server.url, `ressource externe chargée : ${r.url()}`);
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
      assert.equal(await page.locator('section.card[aria-labelledby^="enfant-"]').count(), 2, 'exactement deux enfants');
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
