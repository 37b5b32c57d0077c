// The messagerie, the liaison book and the school news in Chromium, with
// JavaScript switched OFF in every context that plays a person: a teacher
// writes to a class and its parents (Markdown and a PDF attached), a pupil
// downloads the file and replies privately, a parent signs a note, the teacher
// sees who signed and reminds the others, the staff publish news for parents.
// Every page visited is checked with axe-core (WCAG 2.1 A/AA) and photographed
// on a desktop and a phone viewport into e2e/test-results/messagerie/.
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

const h = new Harness('messagerie');

const SUBJECT = 'Sortie à la piscine';
const BODY = [
  'Bonjour à tous,',
  '',
  'La sortie à la piscine a lieu **jeudi 12 juin**, départ à 9 h devant le collège.',
  '',
  'À apporter :',
  '',
  '- un maillot de bain',
  '- une serviette',
  '- un bonnet',
].join('\n');
const PDF_NAME = 'sortie-piscine.pdf';
const PDF_BYTES = Buffer.from(
  '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n' +
    '2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n' +
    'trailer << /Root 1 0 R >>\n%%EOF\n',
  'latin1',
);
const REPLY = 'Merci madame';
const NOTE_TITLE = 'Autorisation de sortie';
const NOTE_BODY = 'Merci de signer ce mot pour autoriser votre enfant à participer à la sortie à la piscine du **12 juin**.';
const NEWS_TITLE = 'Réunion parents-professeurs';
const NEWS_BODY = 'La réunion parents-professeurs de la 6e aura lieu le **mardi 17 juin** à 18 h, en salle polyvalente.';
const DATE = String.raw`\d{2}/\d{2}/\d{4}`;

// One signed-in page per person, made on first use, closed at the end.
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

/** The main navigation of the site, to click its links by name. */
const nav = (page) => page.getByRole('navigation', { name: 'Navigation principale' });

async function home(page) {
  await clickAndWait(page, nav(page).getByRole('link', { name: 'Accueil', exact: true }));
  assert.equal(pathname(page), '/');
}

/** The summary line « Nouveautés » of a home page. */
async function homeSummary(page) {
  return text(page.getByRole('list', { name: 'Nouveautés' }));
}

let tmpDir;
let pdfPath;
let groupThreadPath; // /messages/<id> of the teacher's message
let replyThreadPath; // /messages/<id> of Léa's private reply
let notePath; // /carnet/<id>
let parentsInClass; // N in « Signatures : x sur N »
let newsPath;

describe('Messagerie, carnet de liaison et actualités, sans JavaScript', { timeout: 110_000 }, () => {
  before(async () => {
    tmpDir = mkdtempSync(path.join(tmpdir(), 'cartable-e2e-pj-'));
    pdfPath = path.join(tmpDir, PDF_NAME);
    writeFileSync(pdfPath, PDF_BYTES);
    await h.start();
  });

  after(async () => {
    try {
      for (const { context } of people.values()) await context.close().catch(() => {});
    } finally {
      await h.stop();
      rmSync(tmpDir, { recursive: true, force: true });
    }
  });

  it('1. une enseignante écrit aux élèves et aux parents de 6e A, avec une pièce jointe', { timeout: TEST_TIMEOUT }, async () => {
    const page = await as('camille.lefevre', 'teacher');
    await clickAndWait(page, nav(page).getByRole('link', { name: 'Messages', exact: true }));
    assert.equal(await heading1(page), 'Messages');
    await checkPage(page, 'enseignante-messages-vide');

    await clickAndWait(page, page.getByRole('link', { name: 'Nouveau message' }));
    assert.equal(await heading1(page), 'Nouveau message');
    await page.getByLabel('Élèves de 6e A', { exact: true }).check();
    await page.getByLabel('Parents de 6e A', { exact: true }).check();
    await page.getByLabel('Objet', { exact: true }).fill(SUBJECT);
    await page.getByLabel('Message', { exact: true }).fill(BODY);
    await page.getByLabel(/^Pièces jointes/).setInputFiles(pdfPath);
    await checkPage(page, 'enseignante-nouveau-message');

    await clickAndWait(page, page.getByRole('button', { name: 'Envoyer', exact: true }));
    assert.match(pathname(page), /^\/messages\/\d+$/);
    groupThreadPath = pathname(page);
    assert.equal(await heading1(page), SUBJECT);
    assert.match(await text(page.locator('main > p.muted')), /^Avec : .*Léa Martin/);
    const message = page.locator('article.message');
    assert.equal(await message.count(), 1);
    assert.equal(await text(message.locator('.body strong')), 'jeudi 12 juin');
    assert.deepEqual(
      (await message.locator('.body li').allInnerTexts()).map((s) => s.trim()),
      ['un maillot de bain', 'une serviette', 'un bonnet'],
    );
    assert.doesNotMatch(await text(message.locator('.body')), /\*\*/);
    const files = message.getByRole('list', { name: 'Pièces jointes' });
    const link = files.getByRole('link', { name: PDF_NAME });
    assert.match(await link.getAttribute('href'), /^\/pieces-jointes\/\d+$/);
    assert.equal(await text(files.getByRole('listitem')), `${PDF_NAME} (moins de 1 Ko)`);
    await checkPage(page, 'enseignante-conversation');
  });

  it('2. une élève voit le message non lu, télécharge la pièce jointe et répond à l\'enseignante seule', { timeout: TEST_TIMEOUT }, async () => {
    assert.ok(groupThreadPath, "l'étape 1 n'a pas abouti");
    const page = await as('lea.martin', 'pupil');
    assert.equal(await heading1(page), 'Bonjour Léa');
    assert.match(await homeSummary(page), /1 conversation non lue/);
    await checkPage(page, 'eleve-accueil-non-lu');

    await clickAndWait(page, nav(page).getByRole('link', { name: 'Messages', exact: true }));
    const row = page.locator('ul.threads li').filter({ hasText: SUBJECT });
    assert.equal(await row.count(), 1);
    assert.match(await row.getAttribute('class'), /\bunread\b/);
    assert.match(await text(row), new RegExp(`^non lu ${SUBJECT} Camille Lefèvre · ${DATE}`));
    await checkPage(page, 'eleve-messages');

    await clickAndWait(page, row.getByRole('link', { name: new RegExp(SUBJECT) }));
    assert.equal(pathname(page), groupThreadPath);
    assert.equal(await heading1(page), SUBJECT);
    assert.equal(await text(page.locator('article.message .body strong')), 'jeudi 12 juin');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: PDF_NAME }).click(),
    ]);
    assert.equal(download.suggestedFilename(), PDF_NAME);
    assert.deepEqual(readFileSync(await download.path()), PDF_BYTES, 'le fichier téléchargé diffère du fichier envoyé');

    // The warning is on the page and read out with the reply box.
    assert.match(
      await text(page.locator('p.notice')),
      /Votre réponse ira seulement à l'auteur du message, pas à tous les destinataires\./,
    );
    const replyBox = page.getByLabel('Votre réponse', { exact: true });
    const describedBy = ((await replyBox.getAttribute('aria-describedby')) ?? '').split(/\s+/).filter(Boolean);
    const descriptions = [];
    for (const id of describedBy) descriptions.push(await text(page.locator(`[id="${id}"]`)));
    assert.ok(
      descriptions.some((d) => /seulement à l'auteur du message/.test(d)),
      `la zone de réponse doit être décrite par l'avertissement (aria-describedby : ${describedBy.join(' ')})`,
    );
    await checkPage(page, 'eleve-conversation-groupe');

    await page.getByLabel('Votre réponse', { exact: true }).fill(REPLY);
    await clickAndWait(page, page.getByRole('button', { name: 'Envoyer la réponse' }));
    assert.match(pathname(page), /^\/messages\/\d+$/);
    assert.notEqual(pathname(page), groupThreadPath, 'la réponse doit ouvrir une conversation privée');
    replyThreadPath = pathname(page);
    assert.equal(new URL(page.url()).hash, '#fin');
    assert.equal(await heading1(page), `Re : ${SUBJECT}`);
    assert.equal(await text(page.locator('main > p.muted')), 'Avec : Camille Lefèvre');
    assert.equal(await text(page.locator('article.message.mine .body')), REPLY);
    await checkPage(page, 'eleve-reponse-privee');

    // Her inbox now has both conversations, neither unread.
    await clickAndWait(page, nav(page).getByRole('link', { name: 'Messages', exact: true }));
    assert.equal(await page.locator('ul.threads li').count(), 2);
    assert.equal(await page.locator('ul.threads li.unread').count(), 0);
  });

  it("3. l'enseignante voit la réponse, non lue, dans sa boîte", { timeout: TEST_TIMEOUT }, async () => {
    assert.ok(replyThreadPath, "l'étape 2 n'a pas abouti");
    const page = await as('camille.lefevre', 'teacher');
    await home(page);
    assert.match(await homeSummary(page), /1 conversation non lue/);
    await clickAndWait(page, nav(page).getByRole('link', { name: 'Messages', exact: true }));
    const row = page.locator('ul.threads li').filter({ hasText: `Re : ${SUBJECT}` });
    assert.equal(await row.count(), 1);
    assert.match(await row.getAttribute('class'), /\bunread\b/);
    assert.match(await text(row), /Léa Martin/);
    await checkPage(page, 'enseignante-messages-reponse');

    await clickAndWait(page, row.getByRole('link'));
    assert.equal(pathname(page), replyThreadPath);
    assert.equal(await text(page.locator('article.message .body')), REPLY);
    assert.equal(await page.locator('p.notice').count(), 0, "l'autrice du message de groupe répond à tous");
    await checkPage(page, 'enseignante-conversation-reponse');
  });

  it('4. l\'enseignante écrit un mot aux familles de 6e A', { timeout: TEST_TIMEOUT }, async () => {
    const page = await as('camille.lefevre', 'teacher');
    await clickAndWait(page, nav(page).getByRole('link', { name: 'Carnet', exact: true }));
    assert.equal(await heading1(page), 'Carnet de liaison');
    await clickAndWait(page, page.getByRole('link', { name: 'Écrire un mot aux familles' }));
    assert.equal(await heading1(page), 'Nouveau mot aux familles');
    await page.getByLabel('Titre', { exact: true }).fill(NOTE_TITLE);
    await page.getByLabel('Texte', { exact: true }).fill(NOTE_BODY);
    await page.getByRole('group', { name: '6e A', exact: true }).getByLabel('Toute la classe').check();
    await checkPage(page, 'enseignante-nouveau-mot');

    await clickAndWait(page, page.getByRole('button', { name: 'Envoyer aux familles' }));
    assert.match(pathname(page), /^\/carnet\/\d+$/);
    notePath = pathname(page);
    assert.equal(await heading1(page), NOTE_TITLE);
    const signatures = await text(page.getByRole('heading', { name: /^Signatures/ }));
    const m = /^Signatures : 0 sur (\d+)$/.exec(signatures);
    assert.ok(m, `titre inattendu : ${signatures}`);
    parentsInClass = Number(m[1]);
    assert.ok(parentsInClass >= 2, `au moins les deux parents de Léa : ${parentsInClass}`);
    const leaRow = page.getByRole('row').filter({ hasText: 'Martin Léa' });
    assert.equal(await text(leaRow.getByRole('listitem').filter({ hasText: 'Sophie Martin' })), 'Sophie Martin : pas encore signé');
    assert.equal(await text(leaRow.getByRole('listitem').filter({ hasText: 'Karim Martin' })), 'Karim Martin : pas encore signé');
    await checkPage(page, 'enseignante-mot-0-signature');
  });

  it('5. un parent voit le mot à signer sur son accueil et le signe', { timeout: TEST_TIMEOUT }, async () => {
    assert.ok(notePath, "l'étape 4 n'a pas abouti");
    const page = await as('sophie.martin', 'parent');
    assert.equal(await heading1(page), 'Bonjour Sophie');
    assert.match(await homeSummary(page), /1 mot à signer/);
    const toSign = page.locator('section.card').filter({ has: page.getByRole('heading', { name: 'À signer' }) });
    assert.match(await text(toSign.locator('li')), new RegExp(`^${NOTE_TITLE} — pour Léa$`));
    await checkPage(page, 'parent-accueil-a-signer');

    await clickAndWait(page, toSign.getByRole('link', { name: NOTE_TITLE }));
    assert.equal(pathname(page), notePath);
    assert.equal(await heading1(page), NOTE_TITLE);
    assert.match(await text(page.locator('main')), /Concerne : Léa\b/);
    assert.equal(await page.getByRole('heading', { name: /^Signatures/ }).count(), 0, 'un parent ne voit pas les signatures des autres');
    await checkPage(page, 'parent-mot');

    await clickAndWait(page, page.getByRole('button', { name: /J'ai pris connaissance de ce mot/ }));
    assert.equal(pathname(page), notePath);
    assert.match(await text(page.getByRole('status')), new RegExp(`^Vous avez signé ce mot le ${DATE} \\d{2}:\\d{2} UTC\\.$`));
    assert.equal(await page.getByRole('button', { name: /J'ai pris connaissance/ }).count(), 0);
    await checkPage(page, 'parent-mot-signe');

    await home(page);
    assert.match(await homeSummary(page), /Carnet de liaison : rien à signer/);
    assert.equal(await page.getByRole('heading', { name: 'À signer' }).count(), 0);
    assert.equal(await page.getByRole('link', { name: NOTE_TITLE }).count(), 0);
  });

  it("6. l'enseignante voit qui a signé et relance les autres", { timeout: TEST_TIMEOUT }, async () => {
    assert.ok(notePath, "l'étape 4 n'a pas abouti");
    const page = await as('camille.lefevre', 'teacher');
    await clickAndWait(page, nav(page).getByRole('link', { name: 'Carnet', exact: true }));
    const sent = page.getByRole('table', { name: 'Signatures reçues' }).getByRole('row').filter({ hasText: NOTE_TITLE });
    assert.match(await text(sent), new RegExp(`1 / ${parentsInClass}$`));
    await checkPage(page, 'enseignante-carnet');

    await clickAndWait(page, sent.getByRole('link', { name: NOTE_TITLE }));
    assert.equal(pathname(page), notePath);
    assert.equal(await text(page.getByRole('heading', { name: /^Signatures/ })), `Signatures : 1 sur ${parentsInClass}`);
    const leaRow = page.getByRole('row').filter({ hasText: 'Martin Léa' });
    assert.match(await text(leaRow.getByRole('listitem').filter({ hasText: 'Sophie Martin' })), new RegExp(`^Sophie Martin : signé le ${DATE}$`));
    assert.equal(await text(leaRow.getByRole('listitem').filter({ hasText: 'Karim Martin' })), 'Karim Martin : pas encore signé');
    await checkPage(page, 'enseignante-mot-1-signature');

    await clickAndWait(page, page.getByRole('button', { name: "Relancer les familles qui n'ont pas signé" }));
    assert.equal(pathname(page), notePath);
    assert.match(await text(page.locator('article p.muted')), new RegExp(`rappel du ${DATE}$`));
  });

  it("7. l'autre parent voit le mot avec la mention « rappel »", { timeout: TEST_TIMEOUT }, async () => {
    assert.ok(notePath, "l'étape 4 n'a pas abouti");
    const page = await as('karim.martin', 'parent');
    assert.match(await homeSummary(page), /1 mot à signer/);
    const toSign = page.locator('section.card').filter({ has: page.getByRole('heading', { name: 'À signer' }) });
    assert.match(await text(toSign.locator('li')), new RegExp(`^rappel ${NOTE_TITLE} — pour Léa$`));
    await checkPage(page, 'parent2-accueil-rappel');

    await clickAndWait(page, nav(page).getByRole('link', { name: 'Carnet', exact: true }));
    const row = page.locator('ul.threads li').filter({ hasText: NOTE_TITLE });
    assert.match(await text(row), new RegExp(`^rappel ${NOTE_TITLE} Camille Lefèvre · pour Léa$`));
    await checkPage(page, 'parent2-carnet-rappel');
    await clickAndWait(page, row.getByRole('link', { name: new RegExp(NOTE_TITLE) }));
    assert.equal(pathname(page), notePath);
    assert.equal(await page.getByRole('button', { name: /J'ai pris connaissance de ce mot/ }).count(), 1);
  });

  it('8. la vie scolaire publie une actualité pour les parents : un parent la voit, une élève non', { timeout: TEST_TIMEOUT }, async () => {
    const page = await as('nadia.benali', 'staff');
    await clickAndWait(page, nav(page).getByRole('link', { name: 'Actualités', exact: true }));
    assert.equal(await heading1(page), 'Actualités');
    await clickAndWait(page, page.getByRole('link', { name: 'Publier une actualité' }));
    assert.equal(await heading1(page), 'Publier une actualité');
    await page.getByLabel('Titre', { exact: true }).fill(NEWS_TITLE);
    await page.getByLabel('Texte', { exact: true }).fill(NEWS_BODY);
    await page.getByRole('group', { name: 'Pour qui ?' }).getByLabel('Les parents', { exact: true }).check();
    await checkPage(page, 'personnel-nouvelle-actualite');

    await clickAndWait(page, page.getByRole('button', { name: 'Publier', exact: true }));
    assert.match(pathname(page), /^\/actualites\/\d+$/);
    newsPath = pathname(page);
    assert.equal(await heading1(page), NEWS_TITLE);
    assert.equal(await text(page.locator('article .body strong')), 'mardi 17 juin');
    await checkPage(page, 'personnel-actualite');

    const sophie = await as('sophie.martin', 'parent');
    await home(sophie);
    const news = sophie.locator('section.card').filter({ has: sophie.getByRole('heading', { name: 'Actualités' }) });
    await clickAndWait(sophie, news.getByRole('link', { name: NEWS_TITLE }));
    assert.equal(pathname(sophie), newsPath);
    assert.equal(await heading1(sophie), NEWS_TITLE);
    await checkPage(sophie, 'parent-actualite');

    const lea = await as('lea.martin', 'pupil');
    await home(lea);
    assert.equal(await lea.getByText(NEWS_TITLE).count(), 0, "l'actualité pour les parents ne doit pas apparaître chez une élève");
    await clickAndWait(lea, nav(lea).getByRole('link', { name: 'Actualités', exact: true }));
    assert.equal(await lea.getByText(NEWS_TITLE).count(), 0);
    const response = await lea.goto(newsPath);
    assert.ok([403, 404].includes(response.status()), `${newsPath} pour une élève : statut ${response.status()}`);
    assert.doesNotMatch(await lea.locator('body').innerText(), new RegExp(NEWS_TITLE));
  });

  it("l'administrateur voit les règles de la messagerie et les envois du jour", { timeout: TEST_TIMEOUT }, async () => {
    const page = await as('michel.roux', 'school_admin');
    await clickAndWait(page, page.getByRole('link', { name: 'Messagerie : règles et envois' }));
    assert.equal(pathname(page), '/admin/messagerie');
    assert.equal(await heading1(page), "Messagerie de l'établissement");
    assert.equal(await page.getByRole('group', { name: 'Les élèves peuvent écrire' }).getByRole('checkbox').count(), 3);
    const senders = page.getByRole('table', { name: 'Comptes qui ont le plus écrit' });
    assert.match(await text(senders.getByRole('row').filter({ hasText: 'Camille Lefèvre' })), /Enseignant/i);
    assert.equal(await senders.getByRole('row').filter({ hasText: 'Léa Martin' }).count(), 1);
    await checkPage(page, 'admin-messagerie');
  });
});

function checkPage(page, name) {
  return h.checkPage(page, name);
}
