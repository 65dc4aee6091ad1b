import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/mailroom.js', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  /** Standard output as the bytes written (stdout is their UTF-8 reading). */
  stdoutBytes: Buffer;
  stderr: string;
}

/** Runs `mailroom …` as a separate process, as an admin would. */
export function runMailroom(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mailroom ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, timeoutMs);
    // 'close', not 'exit': the output may still be in the pipe when the process has exited.
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(stdout);
      resolve({ code: code ?? -1, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr });
    });
  });
}

export interface DaemonProcess {
  child: ChildProcess;
  smtpPort: number;
  httpPort: number;
  logLines: Array<Record<string, unknown>>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number>;
}

/** Starts `mailroom start` and waits for its app.started log line. */
export async function startDaemonProcess(env: Record<string, string>): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [BIN, 'start'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logLines: Array<Record<string, unknown>> = [];
  let stderr = '';
  let buffered = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  const started = await new Promise<Record<string, unknown>>((resolve, reject) => {
    // A first start creates the embedded database (initdb): seconds alone, far more on a loaded CI machine.
    const timer = setTimeout(() => reject(new Error(`daemon did not start; stderr: ${stderr}`)), 90_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) !== -1) {
        const line = JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>;
        buffered = buffered.slice(newline + 1);
        logLines.push(line);
        if (line.event === 'app.started') {
          clearTimeout(timer);
          resolve(line);
        }
      }
    });
    void exited.then((code) => reject(new Error(`daemon exited with ${code}; stderr: ${stderr}; stdout: ${buffered}`)));
  });
  return {
    child,
    smtpPort: Number(started.smtpPort),
    httpPort: Number(started.httpPort),
    logLines,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
