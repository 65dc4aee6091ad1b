import type { DaemonInfo } from '../data-dir.js';
import { EXIT } from './program.js';

/** Sends a command line to the daemon that owns the embedded database and relays its output. */
export function createCliForwarder(info: DaemonInfo) {
  return {
    async run(argv: string[]): Promise<number> {
      const host = info.httpHost === '0.0.0.0' || info.httpHost === '::' ? '127.0.0.1' : info.httpHost;
      let response: Response;
      try {
        response = await fetch(`http://${host.includes(':') ? `[${host}]` : host}:${info.httpPort}/internal/cli`, {
          method: 'POST',
          headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ argv }),
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
          const frame = JSON.parse(buffered.slice(0, newline)) as { out?: string; err?: string; exit?: number };
          buffered = buffered.slice(newline + 1);
          if (frame.out !== undefined) process.stdout.write(frame.out);
          if (frame.err !== undefined) process.stderr.write(frame.err);
          if (frame.exit !== undefined) code = frame.exit;
        }
      }
      return code;
    },
  };
}
