import { readFile, stat } from 'node:fs/promises';
import type { DaemonInfo } from '../data-dir.js';
import { MAX_FORWARDED_FILE_BYTES } from './context.js';
import { EXIT } from './exit-codes.js';

/** Sends a command line to the daemon that owns the embedded database and relays its output. */
export function createCliForwarder(info: DaemonInfo) {
  return {
    async run(originalArgv: string[]): Promise<number> {
      let argv: string[];
      let files: Record<string, string>;
      try {
        argv = await inlineLocalFiles(originalArgv);
        files = await filesNamedIn(argv);
      } catch (err) {
        process.stderr.write(`mailroom: ${(err as Error).message}\n`);
        return EXIT.USAGE;
      }
      const host = info.httpHost === '0.0.0.0' || info.httpHost === '::' ? '127.0.0.1' : info.httpHost;
      let response: Response;
      try {
        response = await fetch(`http://${host.includes(':') ? `[${host}]` : host}:${info.httpPort}/internal/cli`, {
          method: 'POST',
          headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' },
          // Progress lines are drawn only when the user's terminal would show them, and times
          // in the terminal's zone (TZ here), not the daemon's.
          body: JSON.stringify({ argv, tty: Boolean(process.stderr.isTTY), files, timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone }),
        });
      } catch (err) {
        process.stderr.write(`mailroom: the daemon (pid ${info.pid}) owns the database but did not answer: ${(err as Error).message}\n`);
        return EXIT.FAILURE;
      }
      if (!response.ok || !response.body) {
        process.stderr.write(`mailroom: the daemon refused the command (HTTP ${response.status})\n`);
        return EXIT.FAILURE;
      }
      let code: number = EXIT.FAILURE;
      let buffered = '';
      const decoder = new TextDecoder();
      for await (const chunk of response.body) {
        buffered += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf('\n')) !== -1) {
          const frame = JSON.parse(buffered.slice(0, newline)) as { out?: string; outBytes?: string; err?: string; exit?: number };
          buffered = buffered.slice(newline + 1);
          if (frame.out !== undefined) process.stdout.write(frame.out);
          if (frame.outBytes !== undefined) process.stdout.write(Buffer.from(frame.outBytes, 'base64'));
          if (frame.err !== undefined) process.stderr.write(frame.err);
          if (frame.exit !== undefined) code = frame.exit;
        }
      }
      return code;
    },
  };
}

/**
 * The daemon runs forwarded commands in its own folder and has no access to this terminal, so a
 * file or standard input named on the command line is read here and sent as text.
 */
async function inlineLocalFiles(argv: string[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const inline = arg.startsWith('--body-file=') ? arg.slice('--body-file='.length) : arg === '--body-file' ? argv[++i] : undefined;
    if (inline === undefined) {
      out.push(arg);
      continue;
    }
    const text = inline === '-' ? await readStdin() : await readFile(inline, 'utf8').catch((err: Error) => {
      throw new Error(`cannot read ${inline}: ${err.message}`);
    });
    out.push('--body', text);
  }
  return out;
}

/**
 * Every argument that names a readable file here is sent along (base64), so a forwarded command
 * reads the same bytes a local one would.
 */
async function filesNamedIn(argv: string[]): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  let total = 0;
  for (const arg of new Set(argv)) {
    const info = await stat(arg).catch(() => null);
    if (!info?.isFile()) continue;
    total += info.size;
    if (total > MAX_FORWARDED_FILE_BYTES) throw new Error(`the files on this command line are larger than ${MAX_FORWARDED_FILE_BYTES / 1024 / 1024} MiB`);
    files[arg] = (await readFile(arg)).toString('base64');
  }
  return files;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
