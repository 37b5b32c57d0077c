// A group in Chromium, JavaScript off: the English teacher (who teaches the
// « Anglais LV1 » group of the demo, pupils of 6e A and 6e B) finds it in her
// cahier, writes homework for it with a PDF, then changes the lesson's files
// on its edit page; a member of the group sees the homework in her list,
// with the group's name; a pupil outside the group does not; the maths
// teacher sees it in 6e A's workload, said to be the group's. Every page is
// checked with axe-core and photographed into e2e/test-results/groupes/.
//
// Run with `bash e2e/run.sh` from the repository root.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  Harness, TEST_TIMEOUT, goto, logIn, text, heading1, clickAndWait, pathname,
} from './support.mjs';

const h = new Harness('groupes');
const GROUP = 'Anglais LV1';
const HOMEWORK = 'Apprendre les salutations de la leçon 1.';
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');

/** Today in Paris as YYYY-MM-DD, and the next Monday-to-Friday day. */
function parisToday() {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit',
  }).formatToParts(new Date());
  const get = (t) => parts.find((p) => p.type === t).value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}
function nextWeekday(iso) {
  const d = new Date(`${iso}T00:00:00Z`);
  do d.setUTCDate(d.getUTCDate() + 1); while ([0, 6].includes(d.getUTCDay()));
  return d.toISOString().slice(0, 10);
}
function mondayOf(iso) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.toISOString().slice(0, 10);
}

const people = new Map();
async function as(login, role) {
  let p = people.get(login);
  if (!p) {
    const context = await h.newContext({ javaScript: false });
    const page = await context.newPage();
    const a = h.account(login, role);
    assert.equal(a.login, login, `la démo n'a plus de compte ${login}`);
    await logIn(page, a.login, a.password);
    assert.equal(pathname(page), '/', `${login} : la connexion n'a pas abouti`);
    p = { context, page };
    people.set(login, p);
  }
  return p.page;
}

let tmpDir;
let files;
let due;
let lessonPath;

describe('Un groupe : cahier de textes, documents modifiables, élèves du groupe seulement', { timeout: 90_000 }, () => {
  before(async () => {
    tmpDir = mkdtempSync(path.join(tmpdir(), 'cartable-e2e-groupes-'));
    files = ['fiche.pdf', 'corrige.pdf'].map((name) => {
      const p = path.join(tmpDir, name);
      writeFileSync(p, PDF);
      return p;
    });
    await h.start();
    due = nextWeekday(parisToday());
  });

  after(async () => {
    try {
      for (const { context } of people.values()) await context.close().catch(() => {});
    } finally {
      await h.stop();
      rmSync(tmpDir, { recursive: true, force: true });
    }
  });

  it('1. la professeure écrit pour son groupe, avec un document', { timeout: TEST_TIMEOUT }, async () => {
    const page = await as('sofia.garcia', 'teacher');
    await goto(page, '/cahier');
    const groups = page.getByRole('heading', { name: 'Mes groupes', level: 2 });
    assert.equal(await groups.count(), 1, '« Mes groupes » doit figurer dans le cahier');
    await h.checkPage(page, 'cahier-avec-groupes');
    const row = page.locator('ul.people li').filter({ has: page.getByRole('link', { name: GROUP, exact: true }) });
    await clickAndWait(page, row.getByRole('link', { name: GROUP, exact: true }));
    assert.match(pathname(page), /^\/cahier\/groupes\/\d+$/);
    assert.equal(await heading1(page), `Cahier de textes — groupe ${GROUP}`);
    await h.checkPage(page, 'groupe-semaine');

    await clickAndWait(page, page.getByRole('link', { name: 'Ajouter une séance', exact: true }));
    assert.equal(await heading1(page), `Nouvelle séance — groupe ${GROUP}`);
    await page.getByLabel('Travail à faire', { exact: true }).fill(HOMEWORK);
    await page.getByLabel('Pour le', { exact: true }).fill(due);
    await page.getByLabel('Durée estimée du travail (minutes)', { exact: true }).fill('25');
    await page.getByLabel('Documents joints', { exact: true }).setInputFiles(files[0]);
    await h.checkPage(page, 'groupe-formulaire');
    await clickAndWait(page, page.getByRole('button', { name: 'Enregistrer', exact: true }));
    assert.match(pathname(page), /^\/cahier\/seances\/\d+$/);
    lessonPath = pathname(page);
    assert.equal(await heading1(page), `Anglais — groupe ${GROUP}`);
    assert.equal(await page.getByRole('link', { name: 'fiche.pdf' }).count(), 1);
    await h.checkPage(page, 'groupe-seance');
  });

  it('2. elle retire le document et en joint un autre depuis la page de modification', { timeout: TEST_TIMEOUT }, async () => {
    assert.ok(lessonPath, "l'étape 1 n'a pas abouti");
    const page = await as('sofia.garcia', 'teacher');
    await goto(page, `${lessonPath}/modifier`);
    const docs = page.getByRole('region', { name: 'Documents joints' });
    assert.equal(await docs.getByRole('link', { name: 'fiche.pdf' }).count(), 1);
    await h.checkPage(page, 'groupe-modifier');
    await clickAndWait(page, docs.getByRole('button', { name: /^Retirer/ }));
    assert.equal(pathname(page), `${lessonPath}/modifier`);
    assert.equal(await text(page.getByRole('region', { name: 'Documents joints' }).locator('p').first()), 'Aucun document joint.');
    await page.getByLabel(/^Ajouter des documents/).setInputFiles(files[1]);
    await clickAndWait(page, page.getByRole('button', { name: 'Joindre', exact: true }));
    assert.equal(await page.getByRole('region', { name: 'Documents joints' }).getByRole('link', { name: 'corrige.pdf' }).count(), 1);
    await h.checkPage(page, 'groupe-documents-changes');
  });

  it("3. une élève du groupe voit le travail avec le nom du groupe ; un élève hors du groupe non", { timeout: TEST_TIMEOUT }, async () => {
    assert.ok(lessonPath, "l'étape 1 n'a pas abouti");
    const lea = await as('lea.martin', 'pupil');
    await goto(lea, '/devoirs');
    const item = lea.locator('ul.due > li').filter({ hasText: HOMEWORK });
    assert.equal(await item.count(), 1, 'le travail du groupe doit figurer dans « Travail à faire »');
    assert.match(await text(item), new RegExp(`groupe ${GROUP}`));
    assert.equal(await item.getByRole('link', { name: 'corrige.pdf' }).count(), 1);
    assert.equal(await item.getByRole('link', { name: 'fiche.pdf' }).count(), 0);
    await h.checkPage(lea, 'eleve-devoirs-groupe');

    // Hugo is in 4e B and the Spanish group, not in « Anglais LV1 ».
    const hugo = await as('hugo.martin', 'pupil');
    await goto(hugo, '/devoirs');
    assert.equal(await hugo.locator('ul.due > li').filter({ hasText: HOMEWORK }).count(), 0);
    await goto(hugo, lessonPath, 404);
  });

  it("4. le professeur de maths le voit dans la charge de la 6e A, attribué au groupe", { timeout: TEST_TIMEOUT }, async () => {
    const page = await as('camille.lefevre', 'teacher');
    await goto(page, '/cahier');
    const row = page.locator('ul.people li').filter({ has: page.getByRole('link', { name: '6e A', exact: true }) });
    await clickAndWait(page, row.getByRole('link', { name: /^charge de travail/ }));
    const href = pathname(page);
    await goto(page, `${href}?semaine=${mondayOf(due)}`);
    assert.match(await text(page.locator('table.workload')), new RegExp(`Anglais \\(groupe ${GROUP}\\)`));
    await h.checkPage(page, 'charge-6e-a-avec-groupe');
  });
});
