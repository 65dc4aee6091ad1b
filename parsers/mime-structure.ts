/**
 * Watches a message's bytes as they arrive for structure no parser should be handed: header
 * lines far past RFC 5322's 998 octets, a header block of megabytes, MIME parts by the ten
 * thousand or nested hundreds deep. It reads each line's start only and keeps a bounded state,
 * so it costs little whatever arrives; the SMTP listener refuses the message when it objects.
 */
export interface StructureLimits {
  maxHeaderLineBytes: number;
  maxHeaderBlockBytes: number;
  maxParts: number;
  maxDepth: number;
}

export interface StructureWatch {
  push(chunk: Buffer): void;
  /** Why the message is refused, or null. */
  problem(): string | null;
}

/** Only the start of a line is kept: enough for a boundary (at most 70 characters) or a header name. */
const LINE_HEAD_BYTES = 1024;
/** A Content-Type field longer than this is not one worth reading for a boundary. */
const MAX_FIELD_CHARS = 4096;

export function createStructureWatch(limits: StructureLimits): StructureWatch {
  let problem: string | null = null;
  let inHeader = true;
  let topLevel = true;
  let headerBlockBytes = 0;
  let lineLength = 0;
  let lineHead: Buffer[] = [];
  let lineHeadBytes = 0;
  let field = '';
  let contentType = '';
  let parts = 0;
  /** Boundaries of the open multiparts, outermost first, with the depth each sits at. */
  const boundaries: Array<{ boundary: string; depth: number }> = [];
  /** Depth of the header block being read (a part's, or a message inside a part). */
  let depth = 0;

  const refuse = (why: string) => {
    problem ??= why;
  };

  const endField = () => {
    if (/^content-type\s*:/i.test(field)) contentType = field.slice(field.indexOf(':') + 1);
    field = '';
  };

  const endHeaderBlock = () => {
    endField();
    const type = /^\s*([\w.+-]+\/[\w.+-]+)/.exec(contentType)?.[1]?.toLowerCase() ?? '';
    const boundary = /boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;]{1,200}))/i.exec(contentType);
    contentType = '';
    inHeader = false;
    topLevel = false;
    if (type.startsWith('multipart/') && boundary) {
      boundaries.push({ boundary: boundary[1] ?? boundary[2]!, depth: depth + 1 });
      if (depth + 1 > limits.maxDepth) refuse(`MIME parts are nested more than ${limits.maxDepth} deep`);
    } else if (type === 'message/rfc822' || type === 'message/global') {
      // The part's body is a whole message: its header block follows at once, one level down.
      depth += 1;
      if (depth > limits.maxDepth) refuse(`MIME parts are nested more than ${limits.maxDepth} deep`);
      inHeader = true;
    }
  };

  /** Whether the line begins with "--", read from its bytes: a body line is rarely a boundary. */
  const startsWithDashes = (): boolean => {
    let seen = 0;
    for (const piece of lineHead) {
      for (let i = 0; i < piece.length && seen < 2; i += 1, seen += 1) if (piece[i] !== 0x2d) return false;
      if (seen === 2) return true;
    }
    return false;
  };

  const readLine = () => {
    const head = Buffer.concat(lineHead, lineHeadBytes).toString('latin1').replace(/\r$/, '');
    if (inHeader) {
      if (lineLength > limits.maxHeaderLineBytes + 2) refuse(`a header line is longer than ${limits.maxHeaderLineBytes} bytes`);
      if (topLevel) {
        headerBlockBytes += lineLength;
        if (headerBlockBytes > limits.maxHeaderBlockBytes) refuse(`the header is larger than ${limits.maxHeaderBlockBytes} bytes`);
      }
      if (head === '') endHeaderBlock();
      else if (/^[ \t]/.test(head)) field = field.length < MAX_FIELD_CHARS ? field + head : field;
      else {
        endField();
        field = head.slice(0, MAX_FIELD_CHARS);
      }
    } else {
      for (let i = boundaries.length - 1; i >= 0; i -= 1) {
        const { boundary, depth: at } = boundaries[i]!;
        if (!head.startsWith(`--${boundary}`)) continue;
        const closing = head.startsWith(`--${boundary}--`);
        boundaries.length = closing ? i : i + 1;
        if (!closing) {
          parts += 1;
          if (parts > limits.maxParts) refuse(`the message has more than ${limits.maxParts} MIME parts`);
          depth = at;
          inHeader = true;
        }
        break;
      }
    }
  };

  const endLine = () => {
    if (inHeader || startsWithDashes()) readLine();
    lineLength = 0;
    lineHead = [];
    lineHeadBytes = 0;
  };

  return {
    push(chunk) {
      let start = 0;
      // Outside every header block and multipart nothing more can be refused: the rest is not read.
      while (start < chunk.length && !problem && (inHeader || boundaries.length > 0)) {
        const newline = chunk.indexOf(0x0a, start);
        const end = newline === -1 ? chunk.length : newline;
        if (lineHeadBytes < LINE_HEAD_BYTES) {
          const take = chunk.subarray(start, Math.min(end, start + LINE_HEAD_BYTES - lineHeadBytes));
          lineHead.push(take);
          lineHeadBytes += take.length;
        }
        lineLength += end - start;
        // A header line is refused as soon as it is too long, not when it finally ends.
        if (inHeader && lineLength > limits.maxHeaderLineBytes + 2) refuse(`a header line is longer than ${limits.maxHeaderLineBytes} bytes`);
        if (newline === -1) break;
        endLine();
        start = newline + 1;
      }
    },
    problem: () => problem,
  };
}
