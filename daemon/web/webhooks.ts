import type { ApiServices } from '../http/api/services.js';
import type { WebhooksView } from './webhooks-page.js';

/** Deliveries listed per webhook; `webhooks log` and the API page through the rest. */
const RECENT_SHOWN = 20;

export async function readWebhooksView(services: ApiServices): Promise<WebhooksView> {
  const hooks = await services.webhooks();
  return { webhooks: await Promise.all(hooks.map(async (hook) => ({ ...hook, recent: (await services.webhookDeliveries(hook.id, { limit: RECENT_SHOWN })) ?? [] }))) };
}

/** The notice or problem a redirect back to the page carries (digits only, shown escaped). */
export function webhooksNotice(params: URLSearchParams): { notice: string | null; problem: string | null } {
  const retried = params.get('retried');
  const refused = params.get('notRetried');
  return {
    notice: retried && /^\d{1,12}$/.test(retried) ? `Delivery ${retried} is pending again and will be sent shortly.` : null,
    problem: refused && /^\d{1,12}$/.test(refused) ? `Delivery ${refused} is not failed (or no longer exists): nothing to retry.` : null,
  };
}

/** The Retry button of a failed delivery, as `POST /api/v1/webhooks/deliveries/{id}/retry`; null for another path. */
export async function webhooksAction(path: string, services: ApiServices): Promise<{ redirect: string } | null> {
  const id = /^\/webhooks\/deliveries\/(\d{1,12})\/retry$/.exec(path)?.[1];
  if (!id) return null;
  const result = await services.retryWebhookDelivery(Number(id));
  return { redirect: result && 'retried' in result ? `/webhooks?retried=${id}` : `/webhooks?notRetried=${id}` };
}
