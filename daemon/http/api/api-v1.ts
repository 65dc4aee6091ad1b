import type http from 'node:http';
import { z } from 'zod';
import { packageVersion } from '../../cli/version.js';
import type { Logger } from '../../logger.js';
import { attachmentRoutes } from './attachments.js';
import { bounceRoutes } from './bounces.js';
import type { ApiCaller } from './auth.js';
import { deliveryRoutes } from './deliveries.js';
import { failureRoutes } from './failures.js';
import { openApiDocument } from './openapi.js';
import { createRouter, type ApiRoute } from './router.js';
import type { ApiServices } from './services.js';
import { rulesRoutes } from './rules.js';
import { spoolRoutes } from './spool.js';
import { ticketRoutes } from './tickets.js';
import { webhookRoutes } from './webhooks.js';

/** The handler of everything below /api/v1: the routes of each resource group and their OpenAPI document. */
export function createApiV1(services: ApiServices, authenticate: (header: string | undefined) => ApiCaller | null, logger: Logger) {
  const routes: ApiRoute[] = [...ticketRoutes(services), ...attachmentRoutes(services), ...deliveryRoutes(services), ...failureRoutes(services), ...bounceRoutes(services), ...spoolRoutes(services), ...rulesRoutes(services), ...webhookRoutes(services)];
  let document: Record<string, unknown> | null = null;
  routes.push({
    method: 'GET',
    path: '/openapi.json',
    role: null,
    summary: 'This document (OpenAPI 3.1); no token needed.',
    responses: { 200: { description: 'the OpenAPI document', schema: z.looseObject({ openapi: z.string(), paths: z.record(z.string(), z.unknown()) }) } },
    // Built on first request, with this route in it; the routes never change after start.
    handle: async () => ({ status: 200, body: (document ??= openApiDocument(routes, packageVersion())) }),
  });
  return createRouter(routes, authenticate, logger) satisfies (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<void>;
}
