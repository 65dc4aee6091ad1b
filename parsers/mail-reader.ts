import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { MailParser, type AddressObject, type AttachmentStream, type HeaderLines, type Headers, type MessageText } from 'mailparser';

/** An attachment as mailparser describes it, with its decoded size and hash but not its bytes. */
export interface ReadAttachment {
  /** Position among the message's attachments, in the order mailparser yields them. */
  partIndex: number;
  filename: string | undefined;
  contentType: string;
  contentDisposition: string | undefined;
  contentId: string | undefined;
  cid: string | undefined;
  size: number;
  sha256: string;
  /** The decoded bytes, when the caller asked to keep them. */
  content: Buffer | null;
}

export interface ReadMail {
  headers: Headers;
  headerLines: HeaderLines;
  subject: string | undefined;
  from: AddressObject | undefined;
  to: AddressObject | AddressObject[] | undefined;
  cc: AddressObject | AddressObject[] | undefined;
  replyTo: AddressObject | undefined;
  text: string | undefined;
  html: string | undefined;
  attachments: ReadAttachment[];
}

export interface ReadMailOptions {
  /** Keep each attachment's bytes in `content` (else only size and hash). @defaultValue true */
  keepAttachmentContent?: boolean;
  /** Sees every piece of every attachment as it is decoded; the next waits for it. */
  onAttachmentPiece?: (partIndex: number, piece: Buffer) => Promise<void> | void;
}

/**
 * mailparser's streaming `MailParser`, read the way its `simpleParser` reads it, except that an
 * attachment's bytes need not be held: a large message is parsed with its attachments only
 * hashed, and their bytes are streamed to storage in a second pass. `html` keeps its `cid:` links
 * (simpleParser would copy every inline image into it as a data: URI).
 */
export async function readMail(raw: Buffer, options: ReadMailOptions = {}): Promise<ReadMail> {
  const keep = options.keepAttachmentContent ?? true;
  const parser = new MailParser({ skipTextToHtml: true, skipImageLinks: true });
  let headers: Headers = new Map();
  let headerLines: HeaderLines = [];
  parser.on('headers', (value: Headers) => {
    headers = value;
    headerLines = (parser as unknown as { headerLines: HeaderLines }).headerLines;
  });
  let text: string | undefined;
  let html: string | undefined;
  const attachments: ReadAttachment[] = [];
  // An error while an attachment is being read must end that read too (the parser stops feeding it).
  let reading: Readable | null = null;
  parser.on('error', (err: Error) => reading?.destroy(err));
  const feeding = feed(parser, raw);
  feeding.catch(() => undefined); // its error is the parser's, which the loop below throws
  for await (const data of parser as AsyncIterable<MessageText | AttachmentStream>) {
    if (data.type === 'text') {
      text = data.text;
      html = typeof data.html === 'string' ? data.html : undefined;
      continue;
    }
    const partIndex = attachments.length;
    const hash = createHash('sha256');
    const pieces: Buffer[] = [];
    let size = 0;
    const content = data.content as unknown as Readable; // typed as Stream; mailparser gives a Readable
    reading = content;
    for await (const piece of content as AsyncIterable<Buffer>) {
      hash.update(piece);
      size += piece.length;
      if (keep) pieces.push(piece);
      if (options.onAttachmentPiece) await options.onAttachmentPiece(partIndex, piece);
    }
    reading = null;
    data.release();
    attachments.push({
      partIndex,
      filename: data.filename,
      contentType: data.contentType,
      contentDisposition: data.contentDisposition,
      contentId: data.contentId,
      cid: data.cid,
      size,
      sha256: hash.digest('hex'),
      content: keep ? Buffer.concat(pieces, size) : null,
    });
  }
  await feeding;
  return {
    headers,
    headerLines,
    subject: headers.get('subject') as string | undefined,
    from: headers.get('from') as AddressObject | undefined,
    to: headers.get('to') as AddressObject | AddressObject[] | undefined,
    cc: headers.get('cc') as AddressObject | AddressObject[] | undefined,
    replyTo: headers.get('reply-to') as AddressObject | undefined,
    text,
    html,
    attachments,
  };
}

/** Input pieces: mailparser handles one written chunk at once, so a 25 MB write would be split, decoded and buffered whole before anything downstream could drain it. */
const FEED_BYTES = 64 * 1024;

/** Writes the message to the parser a piece at a time, waiting whenever the parser is full. */
async function feed(parser: MailParser, raw: Buffer): Promise<void> {
  for (let offset = 0; offset < raw.length; offset += FEED_BYTES) {
    if (parser.destroyed) return;
    if (!parser.write(raw.subarray(offset, offset + FEED_BYTES))) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          parser.off('drain', done);
          parser.off('close', done);
          resolve();
        };
        parser.on('drain', done);
        parser.on('close', done);
      });
    }
  }
  if (!parser.destroyed) parser.end();
}
