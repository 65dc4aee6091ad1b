import { createHmac } from 'node:crypto';

/**
 * The Mailroom-Signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. The
 * time is signed with the body so a captured request cannot be replayed later than the
 * receiver's tolerance. The layout is the one common webhook libraries verify (README, Webhooks).
 */
export function signWebhookBody(secret: string, body: string, now: Date): string {
  const t = Math.floor(now.getTime() / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}
