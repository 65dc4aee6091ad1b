import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect } from 'vitest';
import { waitForInbound } from './queries.js';
import { queuedId } from './smtp-client.js';
import { FIXTURES, rawMessage, startTestApp, type TestApp } from './test-app.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

export const WEBHOOK_SECRET = 'whsec-0123456789abcdefghijklmnop';
const HELPDESK = readFileSync(path.join(FIXTURES, 'rules', 'helpdesk.yaml'), 'utf8');

/** The helpdesk rules with these webhooks added. */
export function rulesWith(hooks: Array<{ id: string; url: string; events: string[]; secretLine?: string }>): string {
  return [
    HELPDESK,
    'webhooks:',
    ...hooks.flatMap((hook) => [`  - id: ${hook.id}`, `    url: ${hook.url}`, `    events: [${hook.events.map((e) => `"${e}"`).join(', ')}]`, `    ${hook.secretLine ?? `secret: ${WEBHOOK_SECRET}`}`]),
    '',
  ].join('\n');
}

/**
 * Daemons with webhooks on a fast clock and receivers, all closed after each test (registers its
 * own afterEach: call it at the top of a test file).
 */
export function webhookKit() {
  let apps: TestApp[] = [];
  let receivers: WebhookReceiver[] = [];
  afterEach(async () => {
    await Promise.all(apps.map((t) => t.close()));
    await Promise.all(receivers.map((r) => r.close()));
    apps = [];
    receivers = [];
  });
  return {
    async receiver(): Promise<WebhookReceiver> {
      const r = await startWebhookReceiver();
      receivers.push(r);
      return r;
    },
    async app(rules: string, env: Record<string, string> = {}): Promise<TestApp> {
      const t = await startTestApp({ rules, env: { MAILROOM_WEBHOOK_POLL_INTERVAL: '50ms', MAILROOM_WEBHOOK_RETRY_MIN: '100ms', MAILROOM_WEBHOOK_RETRY_MAX: '200ms', ...env } });
      apps.push(t);
      return t;
    },
    async customerWrites(t: TestApp, from: string, subject: string) {
      const sent = await t.send({ from, to: ['soporte@example.com'] }, rawMessage({ from, subject }));
      expect(sent.code, sent.response).toBe(250);
      return waitForInbound(t, queuedId(sent));
    },
  };
}
