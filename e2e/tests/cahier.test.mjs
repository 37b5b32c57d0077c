// The cahier de textes in Chromium, with JavaScript switched OFF in every
// context that plays a person: an English teacher sets a test for the next
// weekday; the maths teacher sees it in the class's workload before adding her
// own homework for the same day (Markdown and a PDF attached), then prepares a
// lesson for next week that pupils must not see yet; a pupil finds both
// homeworks on her home page and in her list, downloads the PDF and ticks the
// maths as done; her parent sees it per child, read-only; the teacher edits
// and deletes, and the pupil sees the change. Every page visited is checked
// with axe-core (WCAG 2.1 A/AA) and photographed on a desktop and a phone
// viewport into e2e/test-results/cahier/.
//
// Dates are Paris calendar days computed here, as the server computes them:
// the lessons are dated today, the homework is due the next weekday.
//
// Run with `bash e2e/run.sh` from the repository root, or `node --test tests/`
// from e2e/ once the binary is built. The steps share one server and run in
// order; each person keeps one browser context for the whole file.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  Harness, TEST_TIMEOUT, goto, logIn, text, heading1, clickAndWait, pathname,
} from './support.mjs';

const h = new Harness('cahier');

const PDF_NAME = 'fractions-exercices.pdf';
const PDF_BYTES = Buffer.from(
  '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n' +
    '2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n' +
    'trailer << /Root 1 0 R >>\n%%EOF\n',
  'latin1',
);
const EN_CONTENT = 'Unit 3 : *my family*. Vocabulaire de la famille.';
const EN_HOMEWORK = 'Apprendre le vocabulaire de la leçon 3 pour le contrôle.';
const MATH_CONTENT = 'Fractions : **simplifier** une fraction, exemples au tableau.';
const MATH_HOMEWORK = 'Exercices 12 et 13 page 54.';
const MATH_HOMEWORK_EDITED = 'Exercices 12, 13 et 14 page 54 (le 14 est nouveau).';
const LATER_HOMEWORK = 'Préparer le contrôle sur les fractions.';

// ------------------------------------------------------------ Paris days

/** Today in Paris as YYYY-MM-DD. */
function parisToday() {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit',
  }).formatToParts(new Date());
  const get = (t) => parts.find((p) => p.type === t).value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

const asDate = (iso) => new Date(`${iso}T00:00:00Z`);

function plusDays(iso, n) {
  const d = asDate(iso);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** The first Monday-to-Friday day after `iso`. */
function nextWeekday(iso) {
  let d = plusDays(iso, 1);
  while ([0, 6].includes(asDate(d).getUTCDay())) d = plusDays(d, 1);
  return d;
}

/** The Monday of the week of `iso`. */
function mondayOf(iso) {
  return plusDays(iso, -((asDate(iso).getUTCDay() + 6) % 7));
}

const WEEKDAYS = ['dimanche', 'lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi'];
const MONTHS = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];

/** « lundi 1er juin », as the site writes a day. */
function longFr(iso) {
  const d = asDate(iso);
  const n = d.getUTCDate();
  return `${WEEKDAYS[d.getUTCDay()]} ${n === 1 ? '1er' : n} ${MONTHS[d.getUTCMonth()]}`;
}

/** « 09/06/2026 ». */
function frenchDate(iso) {
  const [y, m, d] = iso.split('-');
  return `${d}/${m}/${y}`;
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---------------------------------------------------------------- people

const people = new Map();

async function as(login, role) {
  let p = people.get(login);
  if (!p) {
    const context = await h.newContext({ javaScript: false });
    const page = await context.newPage();
    const a = h.account(login, role);
    assert.equal(a.login, login, `la démo n'a plus de compte ${login}`);
    await logIn(page, a.login, a.password);
    assert.equal(pathname(page), '/', `${login} : la connexion n'a pas abouti (${page.url()})`);
    p = { context, page };
    people.set(login, p);
  }
  return p.page;
}

const nav = (page) => page.getByRole('navigation', { name: 'Navigation principale' });
const checkPage = (page, name) => h.checkPage(page, name);

/** The row of a class in the teacher's « Mes classes » list. */
function myClassRow(page, className) {
  return page.locator('ul.people li').filter({ has: page.getByRole('link', { name: className, exact: true }) });
}

/** The homework items of one due day (a region named « Pour <jour>… »). */
function dueDay(scope, iso) {
  return scope.getByRole('region', { name: new RegExp(`^Pour ${escapeRe(longFr(iso))}\\b`) });
}
const dueItems = (day) => day.locator('ul.due > li');
const dueItem = (day, subject) => dueItems(day).filter({ has: day.page().locator('strong', { hasText: subject }) });

// ------------------------------------------------------------------ state

let tmpDir;
let pdfPath;
let today; // Paris day of the run, YYYY-MM-DD
let due; // next weekday: both homeworks are due then
let later; // a week ahead: the scheduled lesson
let laterDue;
let classId; // 6e A
let mathPath; // /cahier/seances/<id>
let laterPath;

describe('Cahier de textes et travail à faire, sans JavaScript', { timeout: 90_000 }, () => {
  before(async () => {
    tmpDir = mkdtempSync(path.join(tmpdir(), 'cartable-e2e-cahier-'));
    pdfPath = path.join(tmpDir, PDF_NAME);
    writeFileSync(pdfPath, PDF_BYTES);
    await h.start();
    today = parisToday();
    due = nextWeekday(today);
    later = plusDays(today, 7);
    laterDue = nextWeekday(later);
    console.log(`  aujourd'hui (Paris) : ${today}, travail pour le ${due}, séance programmée le ${later}`);
  });

  after(async () => {
    try {
      for (const { context } of people.values()) await context.close().catch(() => {});
    } finally {
      await h.stop();
      rmSync(tmpDir, { recursive: true, force: true });
    }
  });

  it("1. la professeure d'anglais donne une évaluation à la 6e A pour le prochain jour de classe", { timeout: TEST_TIMEOUT }, async () => {
    const page = await as('sofia.garcia', 'teacher');
    await clickAndWait(page, nav(page).getByRole('link', { name: 'Cahier de textes', exact: true }));
    assert.equal(pathname(page), '/cahier');
    assert.equal(await heading1(page), 'Cahier de textes');
    const row = myClassRow(page, '6e A');
    assert.equal(await row.count(), 1, 'la 6e A doit figurer dans « Mes classes »');
    classId = /^\/cahier\/classes\/(\d+)$/.exec(await row.getByRole('link', { name: '6e A', exact: true }).getAttribute('href'))?.[1];
    assert.ok(classId, 'lien de classe inattendu');
    await checkPage(page, 'anglais-cahier');

    await clickAndWait(page, row.getByRole('link', { name: /^ajouter une séance/ }));
    assert.equal(await heading1(page), 'Nouvelle séance — 6e A');
    assert.equal(await page.getByLabel('Date de la séance', { exact: true }).inputValue(), today);
    // Left empty, the subject is the teacher's own.
    await page.getByLabel('Contenu de la séance', { exact: true }).fill(EN_CONTENT);
    await page.getByLabel('Travail à faire', { exact: true }).fill(EN_HOMEWORK);
    await page.getByLabel('Pour le', { exact: true }).fill(due);
    await page.getByLabel('Durée estimée du travail (minutes)', { exact: true }).fill('45');
    await page.getByLabel("C'est une évaluation (contrôle)", { exact: true }).check();
    await checkPage(page, 'anglais-formulaire');

    await clickAndWait(page, page.getByRole('button', { name: 'Enregistrer', exact: true }));
    assert.match(pathname(page), /^\/cahier\/seances\/\d+$/);
    assert.equal(await heading1(page), 'Anglais — 6e A');
    assert.equal(await text(page.locator('article .body em')), 'my family');
    assert.equal(
      await text(page.locator('.homework > p')),
      `Travail à faire pour le ${frenchDate(due)} · environ 45 min · évaluation`,
    );
    assert.equal(await text(page.locator('.homework .body')), EN_HOMEWORK);
    await checkPage(page, 'anglais-seance');
  });

  it("2. la professeure de maths voit l'évaluation d'anglais dans la charge de la classe, puis ajoute ses devoirs avec un PDF", { timeout: TEST_TIMEOUT }, async () => {
    assert.ok(classId, "l'étape 1 n'a pas abouti");
    const page = await as('camille.lefevre', 'teacher');
    await clickAndWait(page, nav(page).getByRole('link', { name: 'Cahier de textes', exact: true }));
    assert.equal(await heading1(page), 'Cahier de textes');
    for (const c of ['6e A', '6e B', '4e B']) {
      assert.equal(await myClassRow(page, c).count(), 1, `${c} doit figurer dans « Mes classes »`);
    }
    await checkPage(page, 'maths-cahier');

    // The class's workload page, on the week of the due day.
    await clickAndWait(page, myClassRow(page, '6e A').getByRole('link', { name: /^charge de travail/ }));
    assert.equal(await heading1(page), 'Charge de travail — 6e A');
    if (mondayOf(due) !== mondayOf(today)) {
      await clickAndWait(page, page.getByRole('navigation', { name: 'Semaines' }).getByRole('link', { name: /Semaine suivante/ }));
    }
    const loadRow = page.locator('tr').filter({ has: page.getByRole('rowheader', { name: longFr(due), exact: true }) });
    assert.match(await text(loadRow), /Anglais \(évaluation\).*45 min, 1 évaluation/);
    await checkPage(page, 'maths-charge');

    await clickAndWait(page, nav(page).getByRole('link', { name: 'Cahier de textes', exact: true }));
    await clickAndWait(page, myClassRow(page, '6e A').getByRole('link', { name: /^ajouter une séance/ }));
    assert.equal(await heading1(page), 'Nouvelle séance — 6e A');
    // The workload of this week and the next, all subjects, beside the form.
    const workload = page.locator('details').filter({ has: page.locator('summary', { hasText: 'Charge de travail de la classe' }) });
    assert.equal(await workload.getByRole('table').count(), 2);
    const dueRow = workload.locator('tr').filter({ has: page.getByRole('rowheader', { name: longFr(due), exact: true }) });
    assert.equal(await dueRow.count(), 1, `le ${longFr(due)} doit figurer dans la charge de travail`);
    assert.match(await text(dueRow), /Anglais \(évaluation\)/);
    await checkPage(page, 'maths-formulaire-charge');

    await page.getByLabel('Contenu de la séance', { exact: true }).fill(MATH_CONTENT);
    await page.getByLabel('Travail à faire', { exact: true }).fill(MATH_HOMEWORK);
    await page.getByLabel('Pour le', { exact: true }).fill(due);
    await page.getByLabel('Durée estimée du travail (minutes)', { exact: true }).fill('30');
    await page.getByLabel('Documents joints', { exact: true }).setInputFiles(pdfPath);
    await clickAndWait(page, page.getByRole('button', { name: 'Enregistrer', exact: true }));
    assert.match(pathname(page), /^\/cahier\/seances\/\d+$/);
    mathPath = pathname(page);
    assert.equal(await heading1(page), 'Mathématiques — 6e A');
    const lesson = page.locator('main article');
    assert.equal(await text(lesson.locator('.body strong')), 'simplifier');
    assert.doesNotMatch(await text(lesson), /\*\*/);
    assert.equal(await text(lesson.locator('.homework > p')), `Travail à faire pour le ${frenchDate(due)} · environ 30 min`);
    const files = lesson.getByRole('list', { name: 'Pièces jointes' });
    assert.match(await files.getByRole('link', { name: PDF_NAME }).getAttribute('href'), /^\/pieces-jointes\/\d+$/);
    assert.equal(await text(files.getByRole('listitem')), `${PDF_NAME} (moins de 1 Ko)`);
    assert.equal(await page.getByRole('link', { name: 'Modifier', exact: true }).count(), 1);
    assert.equal(await page.getByRole('button', { name: 'Supprimer', exact: true }).count(), 1);
    await checkPage(page, 'maths-seance');

    // The week of the class: both subjects on the day of the lessons.
    await clickAndWait(page, page.getByRole('link', { name: '← Cahier de textes de 6e A' }));
    assert.equal(pathname(page), `/cahier/classes/${classId}`);
    assert.equal(await heading1(page), 'Cahier de textes — 6e A');
    const day = page.getByRole('region', { name: longFr(today), exact: true });
    const subjects = (await day.getByRole('heading', { level: 3 }).allInnerTexts()).map((s) => s.replace(/\s+/g, ' ').trim());
    assert.equal(subjects.length, 2, `deux séances le ${longFr(today)} : ${subjects.join(' | ')}`);
    assert.ok(subjects.some((s) => /^Anglais Sofia Garcia$/.test(s)), subjects.join(' | '));
    assert.ok(subjects.some((s) => /^Mathématiques Camille Lefèvre$/.test(s)), subjects.join(' | '));
    await checkPage(page, 'maths-semaine');
  });

  it('3. elle prépare une séance pour la semaine prochaine, invisible des élèves avant sa date', { timeout: TEST_TIMEOUT }, async () => {
    assert.ok(mathPath, "l'étape 2 n'a pas abouti");
    const page = await as('camille.lefevre', 'teacher');
    await goto(page, `/cahier/classes/${classId}`);
    await clickAndWait(page, page.getByRole('link', { name: 'Ajouter une séance', exact: true }));
    assert.equal(await heading1(page), 'Nouvelle séance — 6e A');
    await page.getByLabel('Date de la séance', { exact: true }).fill(later);
    await page.getByLabel('Travail à faire', { exact: true }).fill(LATER_HOMEWORK);
    await page.getByLabel('Visible par les élèves à partir du (facultatif)', { exact: true }).fill(later);

    // Forgot the due date: the form comes back with the message and her text.
    await clickAndWait(page, page.getByRole('button', { name: 'Enregistrer', exact: true }));
    assert.equal(await text(page.getByRole('alert')), 'Indiquez pour quand est le travail à faire.');
    assert.equal(await page.getByLabel('Travail à faire', { exact: true }).inputValue(), LATER_HOMEWORK);
    await checkPage(page, 'maths-formulaire-erreur');

    await page.getByLabel('Pour le', { exact: true }).fill(laterDue);
    await clickAndWait(page, page.getByRole('button', { name: 'Enregistrer', exact: true }));
    assert.match(pathname(page), /^\/cahier\/seances\/\d+$/);
    laterPath = pathname(page);
    assert.equal(await heading1(page), 'Mathématiques — 6e A');
    assert.equal(
      await text(page.locator('main > p.muted')),
      `Séance du ${frenchDate(later)} · Camille Lefèvre · programmée, pas encore visible des élèves`,
    );
    await checkPage(page, 'maths-seance-programmee');
  });

  it("4. l'élève voit ses devoirs, télécharge le PDF et coche les maths comme faites", { timeout: TEST_TIMEOUT }, async () => {
    assert.ok(laterPath, "l'étape 3 n'a pas abouti");
    const page = await as('lea.martin', 'pupil');
    const todo = page.getByRole('region', { name: 'À faire', exact: true });
    const days = todo.getByRole('listitem');
    const tomorrow = due === plusDays(today, 1) ? ' (demain)' : '';
    assert.deepEqual(
      (await days.allInnerTexts()).map((s) => s.replace(/\s+/g, ' ').trim()),
      [`Pour ${longFr(due)}${tomorrow} : Anglais, Mathématiques`],
      'la séance programmée ne doit pas apparaître',
    );
    await checkPage(page, 'eleve-accueil');

    await clickAndWait(page, todo.getByRole('link', { name: 'Tout le travail à faire' }));
    assert.equal(pathname(page), '/devoirs');
    assert.equal(await heading1(page), 'Travail à faire');
    assert.equal(await page.getByRole('region', { name: /^Pour / }).count(), 1);
    const day = dueDay(page, due);
    assert.equal(await dueItems(day).count(), 2);
    const english = dueItem(day, 'Anglais');
    const maths = dueItem(day, 'Mathématiques');
    assert.match(await text(english.locator('p').first()), /^Anglais évaluation · environ 45 min$/);
    assert.equal(await text(english.locator('.body')), EN_HOMEWORK);
    assert.match(await text(maths.locator('p').first()), /^Mathématiques · environ 30 min$/);
    assert.equal(await text(maths.locator('.body')), MATH_HOMEWORK);
    assert.doesNotMatch(await page.locator('main').innerText(), new RegExp(escapeRe(LATER_HOMEWORK)));
    await checkPage(page, 'eleve-devoirs');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      maths.getByRole('link', { name: PDF_NAME }).click(),
    ]);
    assert.equal(download.suggestedFilename(), PDF_NAME);
    assert.deepEqual(readFileSync(await download.path()), PDF_BYTES, 'le fichier téléchargé diffère du fichier envoyé');

    await clickAndWait(page, maths.getByRole('button', { name: /^J'ai fait ce travail/ }));
    assert.equal(pathname(page), '/devoirs');
    assert.match(new URL(page.url()).hash, /^#l\d+$/);
    assert.match(await maths.getAttribute('class'), /\bdone\b/);
    assert.equal(await text(maths.locator('.tag', { hasText: 'fait' })), 'fait');
    assert.equal(await maths.getByRole('button', { name: /^Marquer comme non fait/ }).count(), 1);
    assert.equal(await maths.getByRole('button', { name: /^J'ai fait ce travail/ }).count(), 0);
    assert.equal(await english.getByRole('button', { name: /^J'ai fait ce travail/ }).count(), 1);
    // Each button says which homework it is about.
    assert.deepEqual(
      await page.getByRole('button', { name: /^(J'ai fait ce travail|Marquer comme non fait)/ }).evaluateAll(
        (bs) => bs.map((b) => b.textContent.replace(/\s+/g, ' ').trim()),
      ),
      ["J'ai fait ce travail : Anglais", 'Marquer comme non fait : Mathématiques'],
    );
    // The audit replays the page at its address: load it without the
    // fragment, or the replay would be a same-document jump to #l<id>.
    await goto(page, '/devoirs');
    await checkPage(page, 'eleve-devoirs-fait');

    // The scheduled lesson cannot be opened by its address either.
    const response = await page.goto(laterPath);
    assert.equal(response.status(), 404, `${laterPath} pour une élève : statut ${response.status()}`);
  });

  it('5. le parent voit le travail de chaque enfant, sans pouvoir le cocher', { timeout: TEST_TIMEOUT }, async () => {
    assert.ok(mathPath, "l'étape 2 n'a pas abouti");
    const page = await as('sophie.martin', 'parent');
    await clickAndWait(page, nav(page).getByRole('link', { name: 'Devoirs', exact: true }));
    assert.equal(pathname(page), '/devoirs');
    assert.equal(await heading1(page), 'Travail à faire');
    const lea = page.getByRole('region', { name: 'Léa Martin — 6e A', exact: true });
    const hugo = page.getByRole('region', { name: 'Hugo Martin — 4e B', exact: true });
    assert.equal(await lea.count(), 1);
    assert.equal(await hugo.count(), 1);
    const day = dueDay(lea, due);
    assert.equal(await dueItems(day).count(), 2);
    const maths = dueItem(day, 'Mathématiques');
    assert.match(await text(maths.locator('p').first()), /^Mathématiques · environ 30 min fait$/);
    assert.doesNotMatch(await text(dueItem(day, 'Anglais').locator('p').first()), /\bfait\b/);
    assert.equal(await maths.getByRole('link', { name: PDF_NAME }).count(), 1);
    assert.equal(await text(hugo.locator('p')), 'Rien à faire pour les deux prochaines semaines.');
    assert.equal(await page.getByRole('button', { name: /J'ai fait|non fait/ }).count(), 0);
    assert.doesNotMatch(await page.locator('main').innerText(), new RegExp(escapeRe(LATER_HOMEWORK)));
    await checkPage(page, 'parent-devoirs');
  });

  it("6. l'enseignante modifie ses devoirs et supprime la séance programmée ; l'élève voit le nouveau texte", { timeout: TEST_TIMEOUT }, async () => {
    assert.ok(mathPath && laterPath, "les étapes 2 et 3 n'ont pas abouti");
    const page = await as('camille.lefevre', 'teacher');
    await goto(page, mathPath);
    await clickAndWait(page, page.getByRole('link', { name: 'Modifier', exact: true }));
    assert.equal(await heading1(page), 'Modifier la séance — 6e A');
    assert.equal(await page.getByLabel('Travail à faire', { exact: true }).inputValue(), MATH_HOMEWORK);
    assert.equal(await page.getByLabel('Pour le', { exact: true }).inputValue(), due);
    await page.getByLabel('Travail à faire', { exact: true }).fill(MATH_HOMEWORK_EDITED);
    await page.getByLabel('Durée estimée du travail (minutes)', { exact: true }).fill('60');
    await checkPage(page, 'maths-modifier');
    await clickAndWait(page, page.getByRole('button', { name: 'Enregistrer', exact: true }));
    assert.equal(pathname(page), mathPath);
    assert.equal(await text(page.locator('.homework .body')), MATH_HOMEWORK_EDITED);
    assert.match(await text(page.locator('.homework > p')), /· environ 60 min$/);
    assert.equal(await page.getByRole('link', { name: PDF_NAME }).count(), 1, 'la pièce jointe reste');

    await goto(page, laterPath);
    await clickAndWait(page, page.getByRole('button', { name: 'Supprimer', exact: true }));
    assert.equal(pathname(page), `/cahier/classes/${classId}`);
    const gone = await page.goto(laterPath);
    assert.equal(gone.status(), 404, `${laterPath} après suppression : statut ${gone.status()}`);

    // 45 + 60 minutes on one day: the workload flags it, in words.
    await goto(page, `/cahier/classes/${classId}/charge?semaine=${due}`);
    const heavy = page.locator('tr').filter({ has: page.getByRole('rowheader', { name: longFr(due), exact: true }) });
    assert.match(await text(heavy), /Anglais \(évaluation\) ; Mathématiques 105 min, 1 évaluation journée chargée$/);
    await checkPage(page, 'maths-charge-journee-chargee');

    const lea = await as('lea.martin', 'pupil');
    await goto(lea, '/devoirs');
    const maths = dueItem(dueDay(lea, due), 'Mathématiques');
    assert.equal(await text(maths.locator('.body')), MATH_HOMEWORK_EDITED);
    assert.equal(await lea.getByText(MATH_HOMEWORK, { exact: true }).count(), 0);
  });
});
