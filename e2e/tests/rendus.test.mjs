// Devoirs à rendre in Chromium, with JavaScript switched OFF in every context
// that plays a person: the maths teacher asks 6e A for a piece of writing due
// in three days at 18:00 (files and text, a PDF attached to the
// instructions); a pupil finds it in « À rendre », downloads the PDF, hands in
// a file and a text and checks her receipt (name, size in octets, SHA-256
// computed here from the bytes sent), then replaces her work; the teacher sees
// who handed in, downloads the zip of every hand-in and returns the copy with
// a comment and a mark; the pupil sees it; her parent sees the work and the
// feedback, read-only, and subscribes to the private calendar, which a plain
// HTTP client (no cookies) can read. Every page visited is checked with
// axe-core (WCAG 2.1 A/AA) and photographed on a desktop and a phone viewport
// into e2e/test-results/rendus/.
//
// Run with `bash e2e/run.sh` from the repository root, or `node --test tests/`
// from e2e/ once the binary is built. The steps share one server and run in
// order; each person keeps one browser context for the whole file.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  Harness, TEST_TIMEOUT, goto, logIn, text, heading1, clickAndWait, pathname,
} from './support.mjs';

const h = new Harness('rendus');

const TITLE = 'Rédaction : mes vacances';
const SUBJECT = 'Mathématiques'; // left empty in the form: the teacher's own
const HEADING = `${SUBJECT} : ${TITLE}`;
const INSTRUCTIONS = 'Racontez vos vacances en **une page**. Relisez-vous.';
const HAND_IN_TEXT = "Cet été, je suis allée chez ma grand-mère à Quimper. J'ai appris à nager.";
const FEEDBACK = 'Très bien écrit';
const MARK = '16/20';

/** A small PDF for the instructions. */
const SUBJECT_PDF_NAME = 'consigne-redaction.pdf';
const SUBJECT_PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n' +
    '2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n' +
    'trailer << /Root 1 0 R >>\n%%EOF\n',
  'latin1',
);

/** About 50 KB that start like a PDF (the server sniffs the type from the bytes). */
function fakePdf(label, size) {
  const head = `%PDF-1.4\n% ${label}\n`;
  let body = '';
  for (let i = 0; Buffer.byteLength(head + body) < size - 6; i += 1) {
    body += `${label} ligne ${String(i).padStart(5, '0')} : il était une fois un été à Quimper.\n`;
  }
  return Buffer.concat([Buffer.from(head + body, 'utf8'), Buffer.from('%%EOF\n', 'latin1')]);
}
const WORK_V1_NAME = 'redaction-lea.pdf';
const WORK_V2_NAME = 'redaction-lea-v2.pdf';
const WORK_V1 = fakePdf('premier jet', 50 * 1024);
const WORK_V2 = fakePdf('version relue', 51 * 1024 + 17);

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

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

const WEEKDAYS = ['dimanche', 'lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi'];
const MONTHS = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];

/** « lundi 1er juin », as the site writes a day. */
function longFr(iso) {
  const d = asDate(iso);
  const n = d.getUTCDate();
  return `${WEEKDAYS[d.getUTCDay()]} ${n === 1 ? '1er' : n} ${MONTHS[d.getUTCMonth()]}`;
}

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

/** The page of a locator, or the page itself. */
const pageOf = (scope) => (typeof scope.page === 'function' ? scope.page() : scope);

/** The item of our assignment in a « Devoirs à rendre » list. */
function listItem(scope) {
  return scope.locator('ul.due > li').filter({ has: pageOf(scope).getByRole('link', { name: HEADING, exact: true }) });
}

/** The receipt's line (dd) for a file, whitespace collapsed. */
async function fileLine(scope, name) {
  return text(scope.locator('dl.receipt dd').filter({ has: pageOf(scope).getByRole('link', { name, exact: true }) }));
}
const receiptLine = (name, bytes) => `${name} · ${bytes.length} octets · SHA-256 ${sha256(bytes)}`;

/** Downloads what clicking `locator` sends, and returns its name and bytes. */
async function download(page, locator) {
  const [dl] = await Promise.all([page.waitForEvent('download'), locator.click()]);
  return { name: dl.suggestedFilename(), bytes: readFileSync(await dl.path()) };
}

// ------------------------------------------------------------------ state

let tmpDir;
const files = {};
let today;
let due; // three days ahead, YYYY-MM-DD
let rendu; // /rendus/<id>
let classSize; // pupils of 6e A, from the teacher's page

describe('Devoirs à rendre : consigne, rendu, reçu, retour, parent et agenda, sans JavaScript', { timeout: 90_000 }, () => {
  before(async () => {
    tmpDir = mkdtempSync(path.join(tmpdir(), 'cartable-e2e-rendus-'));
    for (const [name, bytes] of [[SUBJECT_PDF_NAME, SUBJECT_PDF], [WORK_V1_NAME, WORK_V1], [WORK_V2_NAME, WORK_V2]]) {
      files[name] = path.join(tmpDir, name);
      writeFileSync(files[name], bytes);
    }
    await h.start();
    today = parisToday();
    due = plusDays(today, 3);
    console.log(`  aujourd'hui (Paris) : ${today}, à rendre le ${due} à 18:00`);
  });

  after(async () => {
    try {
      for (const { context } of people.values()) await context.close().catch(() => {});
    } finally {
      await h.stop();
      rmSync(tmpDir, { recursive: true, force: true });
    }
  });

  it('1. la professeure de maths demande une rédaction à la 6e A, avec une consigne en PDF', { timeout: TEST_TIMEOUT }, async () => {
    const page = await as('camille.lefevre', 'teacher');
    await clickAndWait(page, nav(page).getByRole('link', { name: 'Cahier de textes', exact: true }));
    assert.equal(pathname(page), '/cahier');
    await clickAndWait(page, myClassRow(page, '6e A').getByRole('link', { name: 'devoir à rendre pour 6e A', exact: true }));
    assert.match(pathname(page), /^\/cahier\/classes\/\d+\/devoir-a-rendre$/);
    assert.equal(await heading1(page), 'Nouveau devoir à rendre — 6e A');
    // Sensible defaults: a week ahead at 18:00, files and text.
    assert.equal(await page.getByLabel('À rendre le', { exact: true }).inputValue(), plusDays(today, 7));
    assert.equal(await page.getByLabel('À quelle heure (heure de Paris)', { exact: true }).inputValue(), '18:00');
    const pupilsHandIn = page.getByRole('group', { name: 'Les élèves rendent' });
    assert.equal(await pupilsHandIn.getByLabel('des fichiers', { exact: true }).isChecked(), true);
    assert.equal(await pupilsHandIn.getByLabel('un texte', { exact: true }).isChecked(), true);

    await page.getByLabel('Titre', { exact: true }).fill(TITLE);
    await page.getByLabel('Consigne', { exact: true }).fill(INSTRUCTIONS);
    await page.getByLabel('À rendre le', { exact: true }).fill(due);
    await page.getByLabel('À quelle heure (heure de Paris)', { exact: true }).fill('18:00');
    await pupilsHandIn.getByLabel('des fichiers', { exact: true }).check();
    await pupilsHandIn.getByLabel('un texte', { exact: true }).check();
    await page.getByLabel('Documents joints à la consigne', { exact: true }).setInputFiles(files[SUBJECT_PDF_NAME]);
    await checkPage(page, 'prof-formulaire');

    await clickAndWait(page, page.getByRole('button', { name: 'Créer le devoir', exact: true }));
    assert.match(pathname(page), /^\/rendus\/\d+$/);
    rendu = pathname(page);
    assert.equal(await heading1(page), HEADING);
    assert.equal(await text(page.locator('main > p.muted')), `6e A · Camille Lefèvre · à rendre le ${longFr(due)} à 18:00`);
    assert.equal(await text(page.locator('main .body.card strong')), 'une page');
    const attached = page.getByRole('list', { name: 'Pièces jointes' });
    assert.equal(await text(attached.getByRole('listitem')), `${SUBJECT_PDF_NAME} (moins de 1 Ko)`);
    assert.equal(await page.getByRole('heading', { name: 'Rendus de la classe', level: 2 }).count(), 1);
    const stats = (await page.locator('ul.stats > li').allInnerTexts()).map((s) => s.replace(/\s+/g, ' ').trim());
    assert.equal(stats[0], '0 à temps');
    assert.equal(stats[1], '0 en retard');
    classSize = Number(/^(\d+) sans rendu$/.exec(stats[2])?.[1]);
    assert.ok(classSize >= 1, `compteurs inattendus : ${stats.join(' | ')}`);
    assert.equal(await page.locator('main section.card h3').count(), classSize, 'une carte par élève');
    // The teacher has no hand-in form.
    assert.equal(await page.getByRole('button', { name: 'Rendre', exact: true }).count(), 0);
    await checkPage(page, 'prof-devoir-cree');

    await clickAndWait(page, nav(page).getByRole('link', { name: 'À rendre', exact: true }));
    assert.equal(pathname(page), '/devoirs-a-rendre');
    const given = page.getByRole('table', { name: 'Devoirs donnés' });
    const row = given.getByRole('row').filter({ has: page.getByRole('link', { name: TITLE, exact: true }) });
    assert.deepEqual(
      (await row.getByRole('cell').allInnerTexts()).map((s) => s.trim()),
      [TITLE, '6e A', `${longFr(due)} à 18:00`],
    );
    assert.equal(await row.getByRole('link', { name: TITLE, exact: true }).getAttribute('href'), rendu);
    await checkPage(page, 'prof-liste');
  });

  it("2. l'élève le trouve dans « À rendre », télécharge la consigne, rend un fichier et un texte, puis remplace son travail", { timeout: TEST_TIMEOUT }, async () => {
    assert.ok(rendu, "l'étape 1 n'a pas abouti");
    const page = await as('lea.martin', 'pupil');
    await clickAndWait(page, nav(page).getByRole('link', { name: 'À rendre', exact: true }));
    assert.equal(pathname(page), '/devoirs-a-rendre');
    assert.equal(await heading1(page), 'Devoirs à rendre');
    const item = listItem(page);
    assert.equal(await item.count(), 1);
    assert.equal(await text(item), `${HEADING} À rendre le ${longFr(due)} à 18:00 · pas encore rendu`);
    await checkPage(page, 'eleve-liste');

    await clickAndWait(page, item.getByRole('link', { name: HEADING, exact: true }));
    assert.equal(pathname(page), rendu);
    assert.equal(await heading1(page), HEADING);
    const mine = page.getByRole('region', { name: 'Mon travail', exact: true });
    assert.equal(await text(mine.locator('p')), 'Pas encore rendu.');
    // Nothing of the class's hand-ins for a pupil.
    assert.equal(await page.getByRole('heading', { name: 'Rendus de la classe' }).count(), 0);
    assert.equal(await page.getByRole('link', { name: /zip/ }).count(), 0);

    const instructions = await download(page, page.getByRole('list', { name: 'Pièces jointes' }).getByRole('link', { name: SUBJECT_PDF_NAME }));
    assert.equal(instructions.name, SUBJECT_PDF_NAME);
    assert.deepEqual(instructions.bytes, SUBJECT_PDF, 'la consigne téléchargée diffère du fichier envoyé');

    const form = page.locator('form').filter({ has: page.getByRole('heading', { name: 'Rendre mon travail', exact: true }) });
    assert.equal(await form.count(), 1);
    await checkPage(page, 'eleve-devoir');
    await form.getByLabel(/^Fichiers/).setInputFiles(files[WORK_V1_NAME]);
    await form.getByLabel('Texte', { exact: true }).fill(HAND_IN_TEXT);
    await clickAndWait(page, form.getByRole('button', { name: 'Rendre', exact: true }));

    const receipt = page.getByRole('status').filter({ has: page.getByRole('heading', { name: 'Travail rendu : voici votre reçu', exact: true }) });
    assert.equal(await receipt.count(), 1, `pas de reçu sur ${page.url()}`);
    assert.equal(await fileLine(receipt, WORK_V1_NAME), receiptLine(WORK_V1_NAME, WORK_V1));
    assert.equal(
      await text(receipt.locator('dt', { hasText: 'Texte' }).locator('xpath=following-sibling::dd[1]')),
      `${[...HAND_IN_TEXT].length} caractères · empreinte ${sha256(Buffer.from(HAND_IN_TEXT, 'utf8')).slice(0, 16)}`,
    );
    assert.match(await text(receipt.locator('dt', { hasText: 'Rendu le' }).locator('xpath=following-sibling::dd[1]')), /^\S+ \d+(er)? \S+ à \d\d:\d\d$/);
    assert.match(await text(receipt.locator('dt', { hasText: 'Numéro de reçu' }).locator('xpath=following-sibling::dd[1]')), /^\d+$/);
    // Her work, below, with the text as she wrote it (the receipt is not repeated).
    assert.equal(await text(mine.locator('p').first()), 'Rendu.');
    assert.equal(await mine.locator('dl.receipt').count(), 0);
    assert.equal(await text(mine.locator('.body')), HAND_IN_TEXT);
    assert.equal(await page.getByRole('heading', { name: 'Remplacer mon travail', exact: true }).count(), 1);
    await checkPage(page, 'eleve-recu');

    // A better version: the new file replaces the first one.
    const again = page.locator('form').filter({ has: page.getByRole('heading', { name: 'Remplacer mon travail', exact: true }) });
    await again.getByLabel(/^Fichiers/).setInputFiles(files[WORK_V2_NAME]);
    await clickAndWait(page, again.getByRole('button', { name: 'Rendre', exact: true }));
    const second = page.getByRole('status').filter({ has: page.getByRole('heading', { name: 'Travail rendu : voici votre reçu', exact: true }) });
    assert.equal(await fileLine(second, WORK_V2_NAME), receiptLine(WORK_V2_NAME, WORK_V2));
    assert.equal(await text(mine.locator('p').first()), 'Version 2 (les précédentes sont conservées).');
    // The receipt just above is not repeated in her work.
    assert.equal(await mine.locator('dl.receipt').count(), 0);
    assert.equal(await page.getByRole('link', { name: WORK_V1_NAME, exact: true }).count(), 0);
    await checkPage(page, 'eleve-recu-version-2');

    // What she gets back is what she sent.
    const back = await download(page, second.getByRole('link', { name: WORK_V2_NAME, exact: true }));
    assert.equal(back.name, WORK_V2_NAME);
    assert.equal(sha256(back.bytes), sha256(WORK_V2));
  });

  it("3. l'enseignante voit le rendu, télécharge le zip et rend la copie avec un commentaire et une note", { timeout: TEST_TIMEOUT }, async () => {
    assert.ok(rendu, "l'étape 1 n'a pas abouti");
    const page = await as('camille.lefevre', 'teacher');
    await goto(page, '/devoirs-a-rendre');
    await clickAndWait(page, page.getByRole('table', { name: 'Devoirs donnés' }).getByRole('link', { name: TITLE, exact: true }));
    assert.equal(pathname(page), rendu);
    const stats = (await page.locator('ul.stats > li').allInnerTexts()).map((s) => s.replace(/\s+/g, ' ').trim());
    assert.deepEqual(stats, ['1 à temps', '0 en retard', `${classSize - 1} sans rendu`]);
    const lea = page.getByRole('region', { name: 'Martin Léa · rendu', exact: true });
    assert.equal(await lea.count(), 1, 'la carte de Léa doit dire « rendu »');
    assert.equal(await fileLine(lea, WORK_V2_NAME), receiptLine(WORK_V2_NAME, WORK_V2));
    assert.equal(await page.getByRole('region', { name: /· pas rendu$/ }).count(), classSize - 1);

    const zip = await download(page, page.getByRole('link', { name: 'Télécharger tous les rendus (zip)', exact: true }));
    assert.match(zip.name, /\.zip$/);
    assert.equal(zip.bytes.subarray(0, 2).toString('latin1'), 'PK', "le téléchargement n'est pas un zip");
    assert.ok(zip.bytes.includes(Buffer.from(WORK_V2_NAME)), `le zip ne contient pas ${WORK_V2_NAME}`);
    assert.ok(zip.bytes.includes(WORK_V2), 'le zip ne contient pas le fichier de Léa tel quel');
    assert.ok(!zip.bytes.includes(Buffer.from(WORK_V1_NAME)), 'le zip ne contient que la dernière version');

    await lea.getByLabel('Commentaire pour Léa', { exact: true }).fill(FEEDBACK);
    await lea.getByLabel('Note (facultative)', { exact: true }).fill(MARK);
    await clickAndWait(page, lea.getByRole('button', { name: 'Rendre la copie avec ce retour', exact: true }));
    assert.equal(pathname(page), rendu);
    assert.match(new URL(page.url()).hash, /^#p\d+$/);
    assert.equal(await lea.getByLabel('Commentaire pour Léa', { exact: true }).inputValue(), FEEDBACK);
    assert.equal(await lea.getByLabel('Note (facultative)', { exact: true }).inputValue(), MARK);
    assert.equal(await lea.getByRole('button', { name: 'Mettre à jour le retour', exact: true }).count(), 1);
    // The audit replays the page at its address: load it without the fragment.
    await goto(page, rendu);
    await checkPage(page, 'prof-rendus-classe');
  });

  it("4. l'élève voit le retour et la note, et « corrigé » dans sa liste", { timeout: TEST_TIMEOUT }, async () => {
    assert.ok(rendu, "l'étape 1 n'a pas abouti");
    const page = await as('lea.martin', 'pupil');
    await goto(page, rendu);
    const mine = page.getByRole('region', { name: 'Mon travail', exact: true });
    // Coming back later, the receipt is in her work.
    assert.equal(await fileLine(mine, WORK_V2_NAME), receiptLine(WORK_V2_NAME, WORK_V2));
    const feedback = mine.locator('.homework');
    assert.equal(await text(feedback.locator('p').first()), `Retour de l'enseignant · note : ${MARK}`);
    assert.equal(await text(feedback.locator('.body')), FEEDBACK);
    await checkPage(page, 'eleve-retour');

    await clickAndWait(page, nav(page).getByRole('link', { name: 'À rendre', exact: true }));
    const item = listItem(page);
    assert.equal(await text(item), `${HEADING} À rendre le ${longFr(due)} à 18:00 · rendu · corrigé`);
    await checkPage(page, 'eleve-liste-corrige');
  });

  it("5. le parent voit le travail et le retour sans pouvoir rendre, puis s'abonne à l'agenda privé", { timeout: TEST_TIMEOUT }, async () => {
    assert.ok(rendu, "l'étape 1 n'a pas abouti");
    const page = await as('sophie.martin', 'parent');
    await clickAndWait(page, nav(page).getByRole('link', { name: 'À rendre', exact: true }));
    assert.equal(pathname(page), '/devoirs-a-rendre');
    const child = page.getByRole('region', { name: 'Léa Martin', exact: true });
    const item = listItem(child);
    assert.equal(await text(item), `${HEADING} À rendre le ${longFr(due)} à 18:00 · rendu · corrigé`);
    // Her brother's class has nothing to hand in: said in words, not an empty box.
    assert.equal(await text(page.getByRole('region', { name: 'Hugo Martin', exact: true }).locator('p')), 'Aucun devoir à rendre pour le moment.');
    await checkPage(page, 'parent-liste');

    await clickAndWait(page, item.getByRole('link', { name: HEADING, exact: true }));
    assert.equal(pathname(page), rendu);
    const work = page.getByRole('region', { name: 'Travail de Léa Martin', exact: true });
    assert.equal(await fileLine(work, WORK_V2_NAME), receiptLine(WORK_V2_NAME, WORK_V2));
    assert.equal(await text(work.locator('.homework p').first()), `Retour de l'enseignant · note : ${MARK}`);
    assert.equal(await text(work.locator('.homework .body')), FEEDBACK);
    // Read-only: no hand-in form, no feedback form, no class table.
    assert.equal(await page.locator('main form').count(), 0);
    assert.equal(await page.getByRole('button', { name: /^Rendre/ }).count(), 0);
    assert.equal(await page.getByRole('heading', { name: 'Rendus de la classe' }).count(), 0);
    await checkPage(page, 'parent-devoir');

    await clickAndWait(page, nav(page).getByRole('link', { name: 'Devoirs', exact: true }));
    await clickAndWait(page, page.getByRole('link', { name: "Ajouter les devoirs à l'agenda du téléphone", exact: true }));
    assert.equal(pathname(page), '/compte/calendrier');
    assert.equal(await heading1(page), 'Calendrier des devoirs');
    await checkPage(page, 'parent-agenda');
    await clickAndWait(page, page.getByRole('button', { name: 'Créer mon adresse privée', exact: true }));
    const shown = page.getByRole('status').filter({ has: page.getByRole('heading', { name: 'Votre adresse privée', exact: true }) });
    const url = await text(shown.locator('.url'));
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/calendrier\/[^/\s]+\.ics$/);
    await checkPage(page, 'parent-agenda-adresse');

    // A calendar app has no session: a plain request, no cookies.
    const response = await fetch(url, { redirect: 'manual' });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/calendar\b/);
    const ics = (await response.text()).replace(/\r\n[ \t]/g, ''); // unfold (RFC 5545 §3.1)
    assert.match(ics, /^BEGIN:VCALENDAR\r\n/);
    const summary = ics.split('\r\n').find((l) => l.startsWith('SUMMARY:') && l.includes('À rendre'));
    assert.ok(summary, `pas d'entrée « À rendre » dans l'agenda :\n${ics}`);
    assert.equal(summary, `SUMMARY:Léa — À rendre : ${SUBJECT} — ${TITLE}`);
    // And nothing without the token.
    const stranger = await fetch(url.replace(/\/[^/]+\.ics$/, '/inconnu.ics'), { redirect: 'manual' });
    assert.equal(stranger.status, 404);
  });
});
