import type { z } from 'zod';
import type { ApiCall, ApiRoute } from './router.js';
import { errorBody, resendBody, resendRequest } from './schemas.js';
import type { ApiServices } from './services.js';

export function deliveryRoutes(services: ApiServices): ApiRoute[] {
  return [
    {
      method: 'POST',
      path: '/deliveries/{id}/resend',
      params: { id: { pattern: /\d{1,12}/, description: 'the delivery id' } },
      role: 'agent',
      summary: 'Send a delivery again as a new mail on the same ticket, to the recipients it failed for or to a corrected address (recorded with the token\'s name).',
      body: resendRequest,
      responses: {
        201: { description: 'queued', schema: resendBody },
        400: { description: 'the body does not validate', schema: errorBody },
        404: { description: 'no such delivery', schema: errorBody },
        422: { description: 'refused, with the reason', schema: errorBody },
      },
      handle: async ({ params, body, caller }: ApiCall<unknown, z.output<typeof resendRequest>>) => {
        const result = await services.resend(Number(params.id), { ...body, by: caller!.name });
        return { status: 201, body: { deliveryId: result.deliveryId, ticket: result.ticketNumber, to: result.to, unsuppressed: result.unsuppressed } };
      },
    },
  ];
}
