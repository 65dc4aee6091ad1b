import { expect } from 'vitest';
import { z } from 'zod';

/** The served OpenAPI document, as far as the checks read it. */
export type OpenApiDocument = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>> };

/** Checks an answer's JSON body against the schema the OpenAPI document gives for that route and status. */
export function expectDocumented(openapi: OpenApiDocument, method: string, template: string, urlPath: string, answer: { status: number; json: unknown }): void {
  const operation = openapi.paths[`/api/v1${template}`]?.[method.toLowerCase()];
  expect(operation, `${method} ${template} is in the OpenAPI document`).toBeDefined();
  const schema = operation!.responses[String(answer.status)]?.content?.['application/json']?.schema;
  expect(schema, `${method} ${template} documents a JSON answer for ${answer.status}`).toBeDefined();
  const checked = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]).safeParse(answer.json);
  expect(checked.success, `${method} ${urlPath} ${answer.status}: ${checked.error?.message}`).toBe(true);
}
