import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/*
 * The image cannot be built here (no registry for base images), so what can be checked without
 * Docker is: everything the Dockerfile copies exists and is not excluded from the build context,
 * it runs as a numeric user, and the health check follows the configured port.
 */
const dockerfile = readFileSync('Dockerfile', 'utf8');
const ignored = readFileSync('.dockerignore', 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

describe('the container image', () => {
  it('copies only what exists and what the build context keeps', () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((match) => match[1]!.split(/\s+/));
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'daemon', 'db', 'bin', 'examples', 'schema']));
    for (const source of sources) {
      expect(existsSync(source), source).toBe(true);
      expect(ignored, source).not.toContain(source);
    }
  });

  it('runs as a numeric user, with mailroom on the PATH and the health check on MAILROOM_HTTP_PORT', () => {
    expect(dockerfile).toMatch(/^USER \d+:\d+$/m);
    expect(dockerfile).toContain('ln -s /app/bin/mailroom.js /usr/local/bin/mailroom');
    expect(dockerfile).toMatch(/HEALTHCHECK .*process\.env\.MAILROOM_HTTP_PORT/);
    expect(dockerfile).toMatch(/^FROM node:(2[2-9]|[3-9]\d)-/m);
  });

  it('mounts the rules folder, not one file, in the compose file', () => {
    const compose = readFileSync('docker-compose.yml', 'utf8');
    expect(compose).toContain('./examples:/etc/mailroom:ro');
    expect(compose).toMatch(/MAILROOM_CONFIG: \/etc\/mailroom\/soporte\.es\.yaml/);
  });
});
