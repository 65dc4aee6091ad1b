// Screenshots of the console's main pages for the README: `npx tsx scripts/console-screenshots.ts`.
// Starts an embedded daemon of its own with a few tickets (one whose acknowledgement the relay
// refuses, with an agent's internal note) and photographs the queue, that ticket, the failures
// log, the rules page and the operations page.
import { mkdirSync } from 'node:fs';
import { launchBrowser } from '../test/helpers/browser.js';
import { queuedId } from '../test/helpers/smtp-client.js';
import { startSmtpSink } from '../test/helpers/smtp-sink.js';
import { rawMessage, startTestApp } from '../test/helpers/test-app.js';
import { waitForInbound } from '../test/helpers/queries.js';
import { readFileSync } from 'node:fs';

const TOKEN = 'screenshot-token-0123456789abcdef';
const OUT = 'docs/screenshots';
mkdirSync(OUT, { recursive: true });
const sink = await startSmtpSink();
sink.rcptReplies.set('pedro@clinete.es', [550, '5.1.1 <pedro@clinete.es>: Recipient address rejected: User unknown']);
const t = await startTestApp({ rules: readFileSync('examples/soporte.es.yaml', 'utf8'), env: { MAILROOM_API_TOKEN: TOKEN, MAILROOM_SMTP_RELAY: sink.url } });
try {
  const mails = [
    ['ana@cliente.es', 'No me llegan los envíos', 'Hola, desde ayer no me llegan los envíos. Mi cuenta es la 123456.'],
    ['pedro@clinete.es', 'Factura duplicada', 'Me han cobrado dos veces la factura de noviembre.'],
    ['luz@empresa.es', 'Error al importar contactos', 'Al importar el CSV sale "formato no válido". Adjunto captura.'],
  ];
  let last = 0;
  for (const [from, subject, body] of mails) {
    const sent = await t.send({ from: from!, to: ['soporte@example.com'] }, rawMessage({ from: from!, subject: subject!, body: body! }));
    last = (await waitForInbound(t, queuedId(sent))).ticketId!;
  }
  await new Promise((resolve) => setTimeout(resolve, 1500)); // the acknowledgements go out
  const noted = await fetch(`http://127.0.0.1:${t.httpPort}/api/v1/tickets/1001/notes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'La dirección de Pedro rebota: llamarle al teléfono de la ficha.' }),
  });
  if (noted.status !== 201) throw new Error(`note: ${noted.status} ${await noted.text()}`);
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  const base = `http://127.0.0.1:${t.httpPort}`;
  await page.goto(`${base}/login`);
  await page.getByLabel('API token').fill(TOKEN);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${base}/tickets`);
  await page.screenshot({ path: `${OUT}/tickets.png`, fullPage: true });
  await page.goto(`${base}/tickets/1001`);
  await page.screenshot({ path: `${OUT}/ticket.png`, fullPage: true });
  await page.goto(`${base}/failures`);
  await page.screenshot({ path: `${OUT}/failures.png`, fullPage: true });
  await page.goto(`${base}/rules`);
  await page.screenshot({ path: `${OUT}/rules.png` });
  await page.goto(`${base}/operations`);
  await page.screenshot({ path: `${OUT}/operations.png`, fullPage: true });
  await browser.close();
  console.log(`screenshots in ${OUT}/ (last ticket id ${last})`);
} finally {
  await t.close();
  await sink.close();
}
