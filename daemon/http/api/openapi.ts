import { z } from 'zod';
import type { ApiRoute } from './router.js';
import { errorBody } from './schemas.js';

/**
 * The OpenAPI 3.1 document of /api/v1, generated from the routes' own zod schemas: what
 * validates a request and what describes a response are the same objects.
 */
export function openApiDocument(routes: readonly ApiRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const unauthorized = { description: 'no token, or one not known', content: { 'application/json': { schema: jsonSchema(errorBody, 'output') } } };
  const forbidden = { description: "the token's role is too weak", content: { 'application/json': { schema: jsonSchema(errorBody, 'output') } } };
  for (const route of routes) {
    const parameters = [
      ...Object.entries(route.params ?? {}).map(([name, param]) => ({
        name,
        in: 'path',
        required: true,
        description: param.description,
        schema: { type: 'string', pattern: `^${param.pattern.source}$` },
      })),
      ...Object.entries(route.query?.shape ?? {}).map(([name, schema]) => {
        const described = jsonSchema(schema as z.ZodType, 'input');
        return { name, in: 'query', required: !(schema as z.ZodType).safeParse(undefined).success, ...(described.description ? { description: described.description } : {}), schema: described };
      }),
    ];
    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(route.responses)) {
      responses[status] = {
        description: spec.description,
        content: { [spec.contentType ?? 'application/json']: { schema: spec.schema ? jsonSchema(spec.schema, 'output') : { type: 'string', format: 'binary' } } },
      };
    }
    if (route.role !== null) {
      responses['401'] = unauthorized;
      responses['403'] = forbidden;
    }
    (paths[`/api/v1${route.path}`] ??= {})[route.method.toLowerCase()] = {
      summary: route.summary,
      ...(route.role === null ? { security: [] } : { 'x-mailroom-role': route.role }),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'mailroom',
      version,
      description: 'The helpdesk API. Roles: read (reads tickets and failures), agent (also changes tickets), admin (everything).',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}
