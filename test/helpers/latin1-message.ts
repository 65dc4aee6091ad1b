/**
 * A mail in ISO-8859-1 with 8-bit bytes in a header and in the body, as an older client sends it:
 * not valid UTF-8, so any text step on its way out would change its bytes. CRLF line ends, as
 * stored. `bodyLines` makes it as large as a test needs (15,000 lines are about 1.3 MB).
 */
export function latin1Message(options: { messageId: string; bodyLines?: number }): Buffer {
  const lines = [
    'From: =?ISO-8859-1?Q?Jos=E9_Mu=F1oz?= <jose@cliente.es>',
    'To: soporte@example.com',
    'Subject: =?ISO-8859-1?Q?Se=F1al_d=E9bil_en_el_sal=F3n?=',
    'Date: Sat, 21 Nov 2026 10:00:00 +0000',
    `Message-ID: <${options.messageId}>`,
    'X-Mailer: Correo del Año 2003',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=ISO-8859-1',
    'Content-Transfer-Encoding: 8bit',
    '',
    ...Array.from({ length: options.bodyLines ?? 3 }, (_, i) => `Línea ${i}: la señal del salón es débil, ¿pueden revisarlo? Gracias. ½ ¼ ÿ`),
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'latin1');
}
