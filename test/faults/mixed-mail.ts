/** Sentences a customer might write, cycled to fill a message of any size with prose. */
const PROSE = [
  'Desde ayer por la tarde los envíos programados de la lista Clientes no salen a la hora prevista.',
  'He revisado la configuración del remitente y el dominio aparece verificado en el panel.',
  'Cuando pulso Enviar, el informe marca la campaña como enviada pero los contactos no la reciben.',
  'Adjunto el registro que me ha dado el navegador, por si os sirve para localizar el problema.',
  'Mi cuenta es la 123456 y la subcuenta la 7890; el problema empezó el lunes hacia las diez.',
  'Necesitamos que esto funcione antes del jueves, cuando sale la campaña de primavera.',
];

/**
 * A customer's plain-text mail of about `bytes` (quoted-printable prose with accents, as mail
 * clients send it), unique per index so that deduplication never hides a lost one.
 */
export function mixedMessage(index: number, ids: { messageId: string; subject: string }, bytes: number): Buffer {
  const head = [
    `From: Cliente ${index} <cliente${index}@cliente.es>`,
    'To: soporte@example.com',
    `Subject: ${ids.subject}`,
    'Date: Thu, 03 Dec 2026 10:00:00 +0000',
    `Message-ID: <${ids.messageId}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    `Hola, soy el cliente ${index}.`,
  ].join('\r\n');
  const lines: string[] = [head];
  let size = head.length;
  for (let i = 0; size < bytes; i++) {
    const line = `${PROSE[(index + i) % PROSE.length]!} (${index}.${i})`;
    lines.push(line);
    size += line.length + 2;
  }
  lines.push('', 'Un saludo.', '');
  return Buffer.from(lines.join('\r\n'), 'utf8');
}
