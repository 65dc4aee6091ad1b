import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../daemon/cli/context.js';
import { formatTime } from '../../daemon/cli/context.js';
import { runCli } from '../../daemon/cli/program.js';

/** A context with no database or rules: enough for help, which is all these tests run. */
function helpContext(): { ctx: CliContext; output: () => string } {
  let out = '';
  const ctx: CliContext = {
    io: { out: (text) => void (out += text), err: (text) => void (out += text), isTTY: false },
    config: null,
    configProblems: ['not needed for help'],
    withDb: () => Promise.reject(new Error('help needs no database')),
    enqueue: null,
    enqueueDeliveries: null,
    readFile: () => Promise.reject(new Error('help reads no file')),
    secret: () => 'not needed for help',
    rules: () => Promise.reject(new Error('help needs no rules')),
    startDaemon: null,
    migrate: null,
  };
  return { ctx, output: () => out };
}

async function help(argv: string[]): Promise<{ code: number; text: string }> {
  const { ctx, output } = helpContext();
  const code = await runCli([...argv, '--help'], ctx);
  return { code, text: output() };
}

/** The command names a help text lists under "Commands:". */
function listedCommands(text: string): string[] {
  const section = text.slice(text.indexOf('Commands:'));
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((match) => match[1]!).filter((name) => name !== 'help');
}

describe('the CLI program, which imports only the modules of the command named', () => {
  it('defines every command and subcommand the full help lists when that command alone is named', async () => {
    const root = await help([]);
    expect(root.code).toBe(0);
    const commands = listedCommands(root.text);
    expect(commands).toEqual(expect.arrayContaining(['start', 'tickets', 'bounces', 'failures', 'inbound', 'parse', 'rules']));
    for (const command of commands) {
      const own = await help([command]);
      expect(own.code, own.text).toBe(0);
      expect(own.text).toContain(`Usage: mailroom ${command}`);
      // A subcommand added by another module (`tickets reply`) must be there too.
      for (const sub of listedCommands(own.text)) {
        const subHelp = await help([command, sub]);
        expect(subHelp.code, subHelp.text).toBe(0);
        expect(subHelp.text).toContain(`Usage: mailroom ${command} ${sub}`);
      }
    }
    expect(listedCommands((await help(['tickets'])).text)).toEqual(expect.arrayContaining(['list', 'show', 'status', 'reply']));
  });
});

describe('formatTime', () => {
  const io = (timeZone?: string) => ({ out: () => {}, err: () => {}, isTTY: false, timeZone });
  it.each([
    ['Europe/Madrid', '2026-12-04T16:05:03.456Z', '2026-12-04 17:05:03+01:00'],
    ['Europe/Madrid', '2026-07-01T22:30:00Z', '2026-07-02 00:30:00+02:00'],
    ['America/St_Johns', '2026-12-04T02:05:03Z', '2026-12-03 22:35:03-03:30'],
    ['UTC', '2026-12-04T00:00:00Z', '2026-12-04 00:00:00+00:00'],
  ])('shows a time in %s as ISO 8601 with that offset', (timeZone, iso, shown) => {
    expect(formatTime(new Date(iso), io(timeZone))).toBe(shown);
  });

  it('falls back to this process zone for a zone it does not know', () => {
    const date = new Date('2026-12-04T16:05:03Z');
    expect(formatTime(date, io('Nowhere/Atlantis'))).toBe(formatTime(date, io()));
  });
});
