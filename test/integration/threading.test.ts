import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTicketStatus } from '../../db/tickets.js';
import { signToken } from '../../parsers/tokens.js';
import { queuedId } from '../helpers/smtp-client.js';
import { articlesWithMessageId, ticketDetail, ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

/** Sends a message to soporte@ and waits for it to be processed; returns its spool row. */
async function deliver(options: Parameters<typeof rawMessage>[0], rcpt = 'soporte@example.com') {
  const from = /<([^>]+)>/.exec(options.from)?.[1] ?? options.from;
  const result = await t.send({ from, to: [rcpt] }, rawMessage(options));
  expect(result.code, result.response).toBe(250);
  return waitForInbound(t, queuedId(result));
}

describe('threading customer mail onto tickets', () => {
  it('opens a new ticket with the sender as requester and the cc as participant', async () => {
    const row = await deliver({ from: 'Ana <ana@cliente.es>', cc: 'jefe@cliente.es', subject: 'No me llegan los envíos', body: 'Hola,\nno me llegan los envíos desde ayer.' });
    expect(row.state).toBe('processed');
    const ticket = await ticketOfInbound(t, row);
    expect(ticket.number).toBeGreaterThanOrEqual(1000);
    expect(ticket.status).toBe('new');
    expect(ticket.subject).toBe('No me llegan los envíos');
    const detail = await ticketDetail(t, ticket.id);
    expect(detail.participants.map((p) => [p.address, p.role])).toEqual(
      expect.arrayContaining([['ana@cliente.es', 'requester'], ['jefe@cliente.es', 'cc']]),
    );
    // mailroom's own address is never a participant
    expect(detail.participants.map((p) => p.address)).not.toContain('soporte@example.com');
    expect(detail.articles).toHaveLength(1);
    expect(detail.articles[0]!.visibleText).toContain('no me llegan los envíos desde ayer');
    expect(detail.events.map((e) => e.type)).toEqual(['ticket.created', 'participant.added', 'article.added']);
    expect(detail.events[1]!.data).toEqual({ address: 'jefe@cliente.es', role: 'cc' });
  });

  it('threads a reply by In-Reply-To and by References onto the same ticket', async () => {
    const first = await deliver({ from: 'bea@cliente.es', subject: 'Import fails', messageId: 'first.bea@cliente.es' });
    const byInReplyTo = await deliver({ from: 'bea@cliente.es', subject: 'Re: Import fails', inReplyTo: 'first.bea@cliente.es' });
    const byReferences = await deliver({
      from: 'bea@cliente.es',
      subject: 'otra cosa',
      references: '<unknown.1@elsewhere> <first.bea@cliente.es>',
    });
    expect(byInReplyTo.ticketId).toBe(first.ticketId);
    expect(byReferences.ticketId).toBe(first.ticketId);
    const detail = await ticketDetail(t, first.ticketId!);
    expect(detail.articles).toHaveLength(3);
    const threadedBy = detail.events.filter((e) => e.type === 'article.added').map((e) => e.data.threadedBy);
    expect(threadedBy).toEqual(['new', 'headers', 'headers']);
  });

  it('threads a reply by the [#number] subject token', async () => {
    const first = await deliver({ from: 'carla@cliente.es', subject: 'Plantilla rota' });
    const ticket = await ticketOfInbound(t, first);
    const reply = await deliver({ from: 'carla@cliente.es', subject: `Re: [#${ticket.number}] Plantilla rota` });
    expect(reply.ticketId).toBe(ticket.id);
  });

  it('threads by the signed plus-address token even without any header', async () => {
    const first = await deliver({ from: 'dani@cliente.es', subject: 'Facturación' });
    const ticket = await ticketOfInbound(t, first);
    const token = signToken(t.secret, 't', ticket.number);
    const reply = await deliver({ from: 'dani@cliente.es', subject: 'sin asunto' }, `soporte+${token}@example.com`);
    expect(reply.ticketId).toBe(ticket.id);
  });

  it('does not thread by a forged plus-address token', async () => {
    const first = await deliver({ from: 'eva@cliente.es', subject: 'Landing' });
    const ticket = await ticketOfInbound(t, first);
    const forged = `t${ticket.number}-aaaaaaaaaa`;
    const reply = await deliver({ from: 'eva@cliente.es', subject: 'sin asunto' }, `soporte+${forged}@example.com`);
    expect(reply.ticketId).not.toBe(ticket.id);
  });

  it('gives two customers who both write "help" two tickets', async () => {
    const a = await deliver({ from: 'one@a.example', subject: 'help' });
    const b = await deliver({ from: 'two@b.example', subject: 'help' });
    expect(a.ticketId).not.toBeNull();
    expect(b.ticketId).not.toBeNull();
    expect(a.ticketId).not.toBe(b.ticketId);
  });

  it('opens a linked ticket when a stranger replies with a valid subject token, with an event on both', async () => {
    const first = await deliver({ from: 'fran@cliente.es', subject: 'Mi cuenta' });
    const original = await ticketOfInbound(t, first);
    const stranger = await deliver({ from: 'intruso@otro.example', subject: `Re: [#${original.number}] Mi cuenta` });
    expect(stranger.ticketId).not.toBe(original.id);
    const split = await ticketOfInbound(t, stranger);
    expect(split.linkedTicketId).toBe(original.id);
    const originalEvents = (await ticketDetail(t, original.id)).events;
    expect(originalEvents.find((e) => e.type === 'ticket.linked')?.data).toMatchObject({ relation: 'stranger_reply', ticket: split.number, from: 'intruso@otro.example' });
    const splitEvents = (await ticketDetail(t, split.id)).events;
    expect(splitEvents[0]!.data).toMatchObject({ relation: 'stranger_reply', linkedTo: original.number });
    expect((await ticketDetail(t, original.id)).articles).toHaveLength(1);
  });

  it('accepts a reply from someone who was in cc of the original', async () => {
    const first = await deliver({ from: 'gema@cliente.es', cc: 'socio@cliente.es', subject: 'Reportes', messageId: 'gema.1@cliente.es' });
    const reply = await deliver({ from: 'socio@cliente.es', subject: 'Re: Reportes', inReplyTo: 'gema.1@cliente.es' });
    expect(reply.ticketId).toBe(first.ticketId);
  });

  it('reopens a pending or solved ticket on a customer reply and logs the change', async () => {
    for (const status of ['pending', 'solved'] as const) {
      const first = await deliver({ from: `hugo.${status}@cliente.es`, subject: `Estado ${status}` });
      const ticket = await ticketOfInbound(t, first);
      await setTicketStatus(t.db, ticket.id, status);
      await deliver({ from: `hugo.${status}@cliente.es`, subject: `Re: [#${ticket.number}] Estado` });
      const detail = await ticketDetail(t, ticket.id);
      expect(detail.ticket.status).toBe('open');
      expect(detail.events.find((e) => e.type === 'status.changed')?.data).toEqual({ from: status, to: 'open', reason: 'customer_reply' });
    }
  });

  it('opens a follow-up ticket linked to a closed one', async () => {
    const first = await deliver({ from: 'ines@cliente.es', subject: 'Vieja consulta', messageId: 'ines.1@cliente.es' });
    const closed = await ticketOfInbound(t, first);
    await setTicketStatus(t.db, closed.id, 'closed');
    const reply = await deliver({ from: 'ines@cliente.es', subject: 'Re: Vieja consulta', inReplyTo: 'ines.1@cliente.es' });
    const followUp = await ticketOfInbound(t, reply);
    expect(followUp.id).not.toBe(closed.id);
    expect(followUp.linkedTicketId).toBe(closed.id);
    expect(followUp.status).toBe('new');
    expect((await ticketDetail(t, closed.id)).ticket.status).toBe('closed');
    expect((await ticketDetail(t, closed.id)).events.find((e) => e.type === 'ticket.linked')?.data).toMatchObject({ relation: 'followup' });
  });

  it('adds nothing for the same message delivered twice', async () => {
    const raw = rawMessage({ from: 'juan@cliente.es', subject: 'Duplicado', messageId: 'dup.1@cliente.es' });
    const first = await t.send({ from: 'juan@cliente.es', to: ['soporte@example.com'] }, raw);
    // The second copy came through another relay: an extra Received header, same message.
    const second = await t.send({ from: 'juan@cliente.es', to: ['soporte@example.com'] }, `Received: from relay2.example by mx\r\n${raw}`);
    const a = await waitForInbound(t, queuedId(first));
    const b = await waitForInbound(t, queuedId(second));
    expect(a.state).toBe('processed');
    expect(b.state).toBe('ignored');
    expect(b.stateReason).toMatch(/^duplicate of article \d+$/);
    expect(await articlesWithMessageId(t, 'dup.1@cliente.es')).toHaveLength(1);
  });

  it('stores an out-of-office reply on its ticket without changing the status', async () => {
    const first = await deliver({ from: 'kike@cliente.es', subject: 'Consulta', messageId: 'kike.1@cliente.es' });
    const ticket = await ticketOfInbound(t, first);
    await setTicketStatus(t.db, ticket.id, 'pending');
    const ooo = await deliver({
      from: 'kike@cliente.es',
      subject: 'Respuesta automática: Consulta',
      inReplyTo: 'kike.1@cliente.es',
      headers: { 'Auto-Submitted': 'auto-replied' },
      body: 'Estoy fuera de la oficina hasta el lunes.',
    });
    expect(ooo.state).toBe('processed');
    expect(ooo.ticketId).toBe(ticket.id);
    const detail = await ticketDetail(t, ticket.id);
    expect(detail.ticket.status).toBe('pending');
    expect(detail.articles.at(-1)!.autoGeneratedReason).toBe('auto_submitted');
  });

  it.each([
    ['Auto-Submitted', { 'Auto-Submitted': 'auto-generated' }, 'auto_submitted'],
    ['List-Id', { 'List-Id': '<news.list.example>' }, 'list_mail'],
  ])('keeps a stranger out of a ticket however automatic the mail looks (%s and the subject token)', async (_case, headers, reason) => {
    const first = await deliver({ from: 'pilar@cliente.es', subject: 'Mi factura' });
    const ticket = await ticketOfInbound(t, first);
    const intruder = await deliver({ from: 'eve@evil.example', subject: `[#${ticket.number}] Actualización de su factura`, headers, body: 'Pague aquí: http://evil.example/' });
    expect(intruder.state).toBe('ignored');
    expect(intruder.stateReason).toBe(`auto_generated_stranger:${reason}`);
    const detail = await ticketDetail(t, ticket.id);
    expect(detail.articles).toHaveLength(1);
  });

  it('ignores an auto-reply that threads nowhere, with the reason, and opens no ticket', async () => {
    const row = await deliver({ from: 'lola@cliente.es', subject: 'Out of office', headers: { 'Auto-Submitted': 'auto-replied' } });
    expect(row.state).toBe('ignored');
    expect(row.stateReason).toBe('auto_generated:auto_submitted');
    expect(row.ticketId).toBeNull();
  });

  it.each([
    ['list mail', { 'List-Id': '<news.list.example>' }, 'auto_generated:list_mail'],
    ['bulk precedence', { Precedence: 'bulk' }, 'auto_generated:precedence'],
  ])('ignores %s that threads nowhere', async (_name, headers, reason) => {
    const row = await deliver({ from: 'news@list.example', subject: 'Newsletter', headers });
    expect(row.state).toBe('ignored');
    expect(row.stateReason).toBe(reason);
  });

  it('stores attachments with their hash and keeps one copy of equal content', async () => {
    const boundary = 'b1';
    const pdf = Buffer.from('%PDF-1.4 fake pdf content').toString('base64');
    const body = [
      'From: mara@cliente.es',
      'To: soporte@example.com',
      'Subject: captura',
      'Message-ID: <att.1@cliente.es>',
      'MIME-Version: 1.0',
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Adjunto dos veces el mismo PDF.',
      `--${boundary}`,
      'Content-Type: application/pdf; name="a.pdf"',
      'Content-Disposition: attachment; filename="a.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      pdf,
      `--${boundary}`,
      'Content-Type: application/pdf; name="b.pdf"',
      'Content-Disposition: attachment; filename="b.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      pdf,
      `--${boundary}--`,
      '',
    ].join('\r\n');
    const result = await t.send({ from: 'mara@cliente.es', to: ['soporte@example.com'] }, body);
    const row = await waitForInbound(t, queuedId(result));
    const { listAttachmentsOf } = await import('../../db/articles.js');
    const attachments = await listAttachmentsOf(t.db, [row.articleId!]);
    expect(attachments.map((a) => [a.filename, a.contentType, a.size])).toEqual([
      ['a.pdf', 'application/pdf', 25],
      ['b.pdf', 'application/pdf', 25],
    ]);
    expect(attachments[0]!.sha256).toBe(attachments[1]!.sha256);
    const { attachmentBlobs } = await import('../../db/schema.js');
    const { eq } = await import('drizzle-orm');
    expect(await t.db.select({ size: attachmentBlobs.size }).from(attachmentBlobs).where(eq(attachmentBlobs.sha256, attachments[0]!.sha256))).toHaveLength(1);
  });

  it('stores large attachments in slices that read back byte for byte, once however often they are sent', async () => {
    const { randomBytes } = await import('node:crypto');
    const { ATTACHMENT_CHUNK_BYTES, listAttachmentsOf, readAttachmentContent } = await import('../../db/articles.js');
    const { attachmentChunks } = await import('../../db/schema.js');
    const { eq } = await import('drizzle-orm');
    // over 1 MiB of mail: processed as a large message, its attachment bytes streamed in a second pass
    const dump = randomBytes(4 * ATTACHMENT_CHUNK_BYTES + 1000);
    const log = randomBytes(ATTACHMENT_CHUNK_BYTES + 7);
    const part = (name: string, content: Buffer) => [
      '--b2',
      `Content-Type: application/octet-stream; name="${name}"`,
      `Content-Disposition: attachment; filename="${name}"`,
      'Content-Transfer-Encoding: base64',
      '',
      content.toString('base64').replace(/.{76}/g, '$&\r\n'),
    ];
    const mail = (n: number, parts: string[][]) =>
      [
        'From: mara@cliente.es',
        'To: soporte@example.com',
        `Subject: volcado ${n}`,
        `Message-ID: <att.big.${n}@cliente.es>`,
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="b2"',
        '',
        '--b2',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'Adjunto el volcado.',
        ...parts.flat(),
        '--b2--',
        '',
      ].join('\r\n');
    const stored: Array<Array<{ sha256: string; size: number; filename: string | null }>> = [];
    for (const [n, parts] of [[1, [part('dump.bin', dump)]], [2, [part('log.txt', log), part('dump.bin', dump)]]] as const) {
      const row = await waitForInbound(t, queuedId(await t.send({ from: 'mara@cliente.es', to: ['soporte@example.com'] }, mail(n, [...parts]))));
      expect(row.state).toBe('processed');
      stored.push(await listAttachmentsOf(t.db, [row.articleId!]));
    }
    expect(stored[0]!.map((a) => [a.filename, a.size])).toEqual([['dump.bin', dump.length]]);
    expect(stored[1]!.map((a) => [a.filename, a.size])).toEqual([['log.txt', log.length], ['dump.bin', dump.length]]);
    expect(stored[1]![1]!.sha256).toBe(stored[0]![0]!.sha256);
    const seqs = async (sha: string) => (await t.db.select({ seq: attachmentChunks.seq }).from(attachmentChunks).where(eq(attachmentChunks.sha256, sha))).map((c) => c.seq).sort();
    expect(await seqs(stored[0]![0]!.sha256)).toEqual([0, 1, 2, 3, 4]);
    expect(await seqs(stored[1]![0]!.sha256)).toEqual([0, 1]);
    expect((await readAttachmentContent(t.db, stored[0]![0]!.sha256))!.equals(dump)).toBe(true);
    expect((await readAttachmentContent(t.db, stored[1]![0]!.sha256))!.equals(log)).toBe(true);
  });
});
