import { z } from 'zod';
import { webhookDeliveryRecord } from '../../reports/webhook-records.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { ApiCall, ApiRoute } from './router.js';
import { errorBody, webhookDeliveriesBody, webhookDeliveriesQuery, webhookRetryBody, webhooksBody } from './schemas.js';
import type { ApiServices } from './services.js';

const idCursor = z.strictObject({ beforeId: z.number().int().positive() });

/**
 * The webhook outbox, as the `webhooks` commands show it. Admin only: a webhook's URL can carry a
 * credential in its query string, and the log says what other systems were told.
 */
export function webhookRoutes(services: ApiServices): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/webhooks',
      role: 'admin',
      summary: "The rules file's webhooks, each with its deliveries pending, delivered and failed and the last error (as `webhooks list --json`); never a secret.",
      responses: { 200: { description: 'the webhooks', schema: webhooksBody } },
      handle: async () => ({ status: 200, body: { webhooks: await services.webhooks() } }),
    },
    {
      method: 'GET',
      path: '/webhooks/{name}/deliveries',
      params: { name: { pattern: /[a-z][a-z0-9_-]{0,62}/, description: 'the webhook id in the rules file' } },
      role: 'admin',
      summary: "A webhook's deliveries, newest first (as `webhooks log --json`), optionally in one state.",
      query: webhookDeliveriesQuery,
      responses: {
        200: { description: 'one page; nextCursor is null on the last', schema: webhookDeliveriesBody },
        400: { description: 'invalid query', schema: errorBody },
        404: { description: 'no such webhook in the rules file or the delivery log', schema: errorBody },
      },
      handle: async ({ params, query }: ApiCall<z.output<typeof webhookDeliveriesQuery>>) => {
        const after = decodeCursor(query.cursor, idCursor);
        const rows = await services.webhookDeliveries(params.name!, { state: query.state, beforeId: after?.beforeId, limit: query.limit + 1 });
        if (!rows) return { status: 404, body: { error: `no webhook "${params.name}" in the rules file or the delivery log` } };
        const page = rows.slice(0, query.limit);
        const nextCursor = rows.length > query.limit ? encodeCursor({ beforeId: page.at(-1)!.id }) : null;
        return { status: 200, body: { webhook: params.name, deliveries: page.map(webhookDeliveryRecord), nextCursor } };
      },
    },
    {
      method: 'POST',
      path: '/webhooks/deliveries/{id}/retry',
      params: { id: { pattern: /\d{1,12}/, description: 'the delivery id' } },
      role: 'admin',
      summary: 'Make a failed delivery pending again, due now, with a new lifetime (as `webhooks retry`, for one delivery).',
      responses: {
        200: { description: 'pending again', schema: webhookRetryBody },
        404: { description: 'no such delivery', schema: errorBody },
        409: { description: 'the delivery is not failed (pending or delivered)', schema: errorBody },
      },
      handle: async ({ params }) => {
        const result = await services.retryWebhookDelivery(Number(params.id));
        if (!result) return { status: 404, body: { error: `no webhook delivery ${params.id}` } };
        if ('notFailed' in result) return { status: 409, body: { error: `webhook delivery ${params.id} is ${result.notFailed}: only a failed one is retried` } };
        return { status: 200, body: { webhook: result.retried.webhookId, delivery: webhookDeliveryRecord(result.retried) } };
      },
    },
  ];
}
